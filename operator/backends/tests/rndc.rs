//! The native control channel client against a real named, and against the
//! `rndc` binary (with a server of this test's own) for every algorithm.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use designate_backends::Error;
use designate_backends::rndc::{Algorithm, ControlKey, Message, RndcClient, decode, encode};
use designate_backends::testing::Bind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const RNDC: &str = "/usr/sbin/rndc";
const TIMEOUT: Duration = Duration::from_secs(10);

/// A client of `bind` with its key (`hmac-sha256`, see `Bind::key_base64`).
fn client(bind: &Bind) -> RndcClient {
    let key = ControlKey::from_base64("hmac-sha256", &bind.key_base64().unwrap()).unwrap();
    client_with(bind, key)
}

fn client_with(bind: &Bind, key: ControlKey) -> RndcClient {
    let control = bind.control_addr();
    RndcClient::new(control.ip().to_string(), control.port(), key, TIMEOUT)
}

/// An addzone command for a secondary zone whose primary never answers.
fn addzone(zone: &str) -> String {
    format!(
        "addzone {zone} {{ type secondary; primaries {{ 127.0.0.1 port 1; }}; file \"{zone}.db\"; }};"
    )
}

#[tokio::test]
async fn commands_run_and_fail_as_with_rndc() {
    let bind = Bind::start().await.unwrap();
    let rndc = client(&bind);

    let status = rndc.command("status").await.unwrap();
    assert!(status.succeeded(), "{status:?}");
    assert!(
        status.text.contains("server is up and running"),
        "{status:?}"
    );

    let add = addzone("z.test");
    let added = rndc.command(&add).await.unwrap();
    assert!(added.succeeded(), "{added:?}\n{}", bind.logs());

    let again = rndc.command(&add).await.unwrap();
    assert!(!again.succeeded());
    assert_eq!(again.err.as_deref(), Some("already exists"), "{again:?}");
    assert!(
        again
            .rndc_output(&add)
            .contains("rndc: 'addzone' failed: already exists"),
        "{again:?}"
    );

    let deleted = rndc.command("delzone z.test").await.unwrap();
    assert!(deleted.succeeded(), "{deleted:?}");

    let gone = rndc.command("delzone z.test").await.unwrap();
    assert!(!gone.succeeded());
    assert_eq!(gone.err.as_deref(), Some("not found"), "{gone:?}");
    assert!(
        gone.rndc_output("delzone z.test")
            .contains("failed: not found"),
        "{gone:?}"
    );

    let refresh = rndc.command("refresh z.test").await.unwrap();
    assert_eq!(refresh.err.as_deref(), Some("not found"), "{refresh:?}");
}

/// Concurrent commands from many tasks: each is a connection of its own,
/// with a serial of its own (named refuses a serial and time seen before).
#[tokio::test]
async fn commands_run_concurrently() {
    let bind = Bind::start().await.unwrap();
    let rndc = client(&bind);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let rndc = rndc.clone();
            tokio::spawn(async move { rndc.command(&addzone(&format!("c{i}.test"))).await })
        })
        .collect();
    for task in tasks {
        let reply = task.await.unwrap().unwrap();
        assert!(reply.succeeded(), "{reply:?}");
    }
    for i in 0..50 {
        let shown = rndc.command(&format!("showzone c{i}.test")).await.unwrap();
        assert!(shown.succeeded(), "{shown:?}");
    }
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized() {
    let bind = Bind::start().await.unwrap();
    let secret = bind.key_base64().unwrap();
    let wrong = [
        ControlKey::new(Algorithm::HmacSha256, b"not the secret".to_vec()),
        ControlKey::from_base64("hmac-sha512", &secret).unwrap(),
        ControlKey::from_base64("hmac-md5", &secret).unwrap(),
    ];
    for key in wrong {
        let error = client_with(&bind, key.clone())
            .command("status")
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::Unauthorized { .. }),
            "{key:?}: {error}"
        );
        assert!(!error.to_string().contains(&secret));
    }
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let key = ControlKey::new(Algorithm::HmacSha256, b"secret".to_vec());
    let error = RndcClient::new("127.0.0.1", port, key.clone(), TIMEOUT)
        .command("status")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unreachable { .. }), "{error}");

    let error = RndcClient::new("no-such-host.invalid", 953, key, TIMEOUT)
        .command("status")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unreachable { .. }), "{error}");
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (connection, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(connection);
    });
    let key = ControlKey::new(Algorithm::HmacSha256, b"secret".to_vec());
    let timeout = Duration::from_millis(300);
    let error = RndcClient::new("127.0.0.1", port, key, timeout)
        .command("status")
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Timeout { timeout: t, .. } if t == timeout),
        "{error}"
    );
    server.abort();
}

fn now() -> u32 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    u32::try_from(seconds).unwrap()
}

async fn read_message(connection: &mut TcpStream, key: &ControlKey) -> Message {
    let mut length = [0u8; 4];
    connection.read_exact(&mut length).await.unwrap();
    let mut body = vec![0u8; usize::try_from(u32::from_be_bytes(length)).unwrap()];
    connection.read_exact(&mut body).await.unwrap();
    decode(&body, key, "rndc").unwrap()
}

/// Serves one rndc exchange as named does, with this crate's codec: a nonce,
/// then `answer` to the command, which it returns.
async fn serve_one(listener: TcpListener, key: ControlKey, answer: Message) -> Message {
    let (mut connection, _) = listener.accept().await.unwrap();
    let greeting = read_message(&mut connection, &key).await;
    assert_eq!(greeting.command.as_deref(), Some("null"));
    let nonce = 0x1234_5678;
    let reply = Message {
        serial: greeting.serial,
        time: now(),
        expires: Some(now() + 60),
        nonce: Some(nonce),
        reply: true,
        command: greeting.command,
        result: Some(0),
        ..Message::default()
    };
    connection.write_all(&encode(&reply, &key)).await.unwrap();

    let request = read_message(&mut connection, &key).await;
    assert_eq!(request.nonce, Some(nonce));
    let reply = Message {
        serial: request.serial,
        time: now(),
        expires: Some(now() + 60),
        nonce: Some(nonce),
        reply: true,
        command: request.command.clone(),
        ..answer
    };
    connection.write_all(&encode(&reply, &key)).await.unwrap();
    request
}

/// The `rndc` binary signs as this codec verifies, and accepts what it
/// signs, under every algorithm; and prints answers as
/// `RndcReply::rndc_output` renders them.
#[tokio::test]
async fn the_codec_interoperates_with_rndc_under_every_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "c2VjcmV0IG9mIHRoZSBpbnRlcm9wIHRlc3Q=";
    for algorithm in Algorithm::ALL {
        for failure in [false, true] {
            let key = ControlKey::from_base64(algorithm.as_str(), secret).unwrap();
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let conf = dir.path().join("rndc.conf");
            std::fs::write(
                &conf,
                format!(
                    "key \"interop\" {{ algorithm {algorithm}; secret \"{secret}\"; }};\n\
                     options {{ default-key \"interop\"; default-server 127.0.0.1; default-port {port}; }};\n"
                ),
            )
            .unwrap();
            let answer = if failure {
                Message {
                    result: Some(18),
                    err: Some("already exists".into()),
                    text: Some("zone z.test already exists".into()),
                    ..Message::default()
                }
            } else {
                Message {
                    result: Some(0),
                    text: Some(format!("answered under {algorithm}")),
                    ..Message::default()
                }
            };
            let server = tokio::spawn(serve_one(listener, key, answer.clone()));
            let zone_config = "{ type secondary; primaries { 127.0.0.1 port 1; }; };";
            let output = tokio::process::Command::new(RNDC)
                .arg("-c")
                .arg(&conf)
                .args(["addzone", "z.test", zone_config])
                .output();
            let output = tokio::time::timeout(TIMEOUT, output)
                .await
                .unwrap()
                .unwrap();
            let printed = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stderr),
                String::from_utf8_lossy(&output.stdout)
            );
            let request = tokio::time::timeout(TIMEOUT, server)
                .await
                .unwrap_or_else(|_| panic!("{algorithm}: rndc printed {printed:?}"))
                .unwrap();
            let command = format!("addzone z.test {zone_config}");
            assert_eq!(request.command.as_deref(), Some(command.as_str()));
            assert_eq!(output.status.success(), !failure, "{algorithm}: {printed}");

            let reply = designate_backends::rndc::RndcReply {
                result: answer.result.unwrap_or(0),
                err: answer.err,
                text: answer.text.unwrap_or_default(),
            };
            assert_eq!(printed, reply.rndc_output(&command), "{algorithm}");
        }
    }
}

/// Not an assertion: what the native client saves over running rndc.
#[tokio::test]
async fn timing_of_native_commands_and_rndc_runs() {
    const ZONES: usize = 200;
    let bind = Bind::start().await.unwrap();
    let rndc = client(&bind);

    let start = Instant::now();
    for i in 0..ZONES {
        let reply = rndc.command(&addzone(&format!("n{i}.test"))).await.unwrap();
        assert!(reply.succeeded(), "{reply:?}");
    }
    let native = start.elapsed();

    let start = Instant::now();
    for i in 0..ZONES {
        let zone = format!("b{i}.test");
        let config = format!(
            "{{ type secondary; primaries {{ 127.0.0.1 port 1; }}; file \"{zone}.db\"; }};"
        );
        bind.rndc(&["addzone", &zone, &config]).await.unwrap();
    }
    let binary = start.elapsed();

    let per = |total: Duration| total / u32::try_from(ZONES).unwrap();
    eprintln!(
        "{ZONES} sequential addzone: native client {native:?} ({:?} each), rndc binary {binary:?} ({:?} each)",
        per(native),
        per(binary)
    );
}
