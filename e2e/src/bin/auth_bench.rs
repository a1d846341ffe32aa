//! What Keystone authentication costs the REST API: the same requests
//! against two `designate-operator standalone`s (release build next to
//! this binary), one in noauth mode and one validating tokens with the
//! Keystone of `../shared/conformance` (running, or started by
//! `keystone-start.sh`).
//!
//! 1. Hot path, one client, one connection per request (as both modes pay
//!    the same connect): `GET /v2/zones` and `POST /v2/zones`, noauth
//!    (project and roles in headers) against keystone (a cached token).
//! 2. A token's first request: `--new-tokens` times, two fresh tokens,
//!    one validated by Keystone alone (`GET /v3/auth/tokens` with the
//!    service user's token, as the API asks), the other sent to us
//!    (`GET /v2/zones`).
//!
//! Prints markdown rows (p50, p99 in ms) for docs/BENCHMARKS.md.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use clap::Parser;
use designate_e2e::bench::{ms, percentiles};
use designate_e2e::keystone::{Keystone, standalone_args};
use designate_e2e::{Standalone, http_request};
use serde_json::json;

#[derive(Parser, Debug)]
#[command(about = "Keystone token validation against noauth, through the REST API")]
struct Args {
    /// Requests per hot-path row.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Zone creates per mode.
    #[arg(long, default_value_t = 300)]
    creates: usize,
    /// Fresh tokens for the first-request row.
    #[arg(long, default_value_t = 100)]
    new_tokens: usize,
}

/// A mode's name, REST URL and the headers that authenticate a request.
type Mode<'a> = (&'a str, String, Vec<(&'a str, &'a str)>);

/// One request's status and time.
fn timed(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<(u16, Duration)> {
    let started = Instant::now();
    let answer = http_request(base, method, path, headers, body)?;
    Ok((answer.status, started.elapsed()))
}

/// `count` requests one after another; their times, failing on an
/// unexpected status.
fn row(
    count: usize,
    mut request: impl FnMut(usize) -> Result<(u16, Duration)>,
    want: u16,
) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(count);
    for i in 0..count {
        let (status, took) = request(i)?;
        if status != want {
            bail!("request {i}: {status}, expected {want}");
        }
        times.push(took);
    }
    Ok(times)
}

fn print(what: &str, mode: &str, times: Vec<Duration>) {
    let n = times.len();
    let p = percentiles(times);
    println!("| {what} | {mode} | {n} | {} | {} |", ms(p.p50), ms(p.p99));
}

fn main() -> Result<()> {
    let args = Args::parse();
    let keystone = Keystone::admin();
    let project = keystone.create_project("bench");
    let user = keystone.user_with_role("bench", &project, "member");
    let token = keystone.issue_token(&user, &project);
    let tmp = tempfile::Builder::new()
        .prefix("designate-auth-bench-")
        .tempdir()?;
    let quotas = ["--quota-zones", "100000"];
    let noauth = Standalone::try_start_with(&tmp.path().join("noauth"), &quotas)?;
    let mut with_keystone: Vec<String> = standalone_args(keystone.url(), tmp.path());
    with_keystone.extend(quotas.iter().map(|s| s.to_string()));
    let flags: Vec<&str> = with_keystone.iter().map(String::as_str).collect();
    let keyed = Standalone::try_start_with(&tmp.path().join("keystone"), &flags)?;
    let modes: [Mode; 2] = [
        (
            "noauth",
            noauth.wait_rest_url(),
            vec![
                ("X-Auth-Project-ID", project.id.as_str()),
                ("X-Roles", "member,reader"),
            ],
        ),
        (
            "keystone (cached token)",
            keyed.wait_rest_url(),
            vec![("X-Auth-Token", token.as_str())],
        ),
    ];
    println!("| request | auth | n | p50 ms | p99 ms |\n|---|---|---|---|---|");
    for (mode, base, headers) in &modes {
        // Warm: the first request of the token, connections, caches.
        row(50, |_| timed(base, "GET", "/v2/zones", headers, None), 200)?;
        let gets = row(
            args.requests,
            |_| timed(base, "GET", "/v2/zones", headers, None),
            200,
        )?;
        print("GET /v2/zones", mode, gets);
        let mut with_body = headers.clone();
        with_body.push(("Content-Type", "application/json"));
        let creates = row(
            args.creates,
            |i| {
                let body = json!({"name": format!("bench-{i}.example."), "email": "a@example.org"});
                timed(
                    base,
                    "POST",
                    "/v2/zones",
                    &with_body,
                    Some(body.to_string().as_bytes()),
                )
            },
            202,
        )?;
        print("POST /v2/zones", mode, creates);
    }

    // Keystone answers a token's first validation slower than later ones:
    // each side gets a fresh token of its own, in alternating order.
    let base = &modes[1].1;
    let service = keystone.service_token();
    let mut keystone_times = Vec::new();
    let mut first_times = Vec::new();
    for i in 0..args.new_tokens {
        let mine = keystone.issue_token(&user, &project);
        let theirs = keystone.issue_token(&user, &project);
        let ours = || {
            timed(
                base,
                "GET",
                "/v2/zones",
                &[("X-Auth-Token", mine.as_str())],
                None,
            )
        };
        let keystone_alone = || {
            let started = Instant::now();
            let valid = keystone.token_valid_for(&service, &theirs);
            (valid, started.elapsed())
        };
        let ((status, first), (valid, validation)) = if i % 2 == 0 {
            let a = ours()?;
            (a, keystone_alone())
        } else {
            let b = keystone_alone();
            (ours()?, b)
        };
        if status != 200 || !valid {
            bail!("fresh tokens {i}: ours {status}, Keystone's valid={valid}");
        }
        first_times.push(first);
        keystone_times.push(validation);
    }
    print(
        "GET /v3/auth/tokens, a token's first validation (Keystone alone)",
        "-",
        keystone_times,
    );
    print(
        "GET /v2/zones, a token's first request",
        "keystone",
        first_times,
    );
    keystone.cleanup();
    Ok(())
}
