//! `standalone --kube-listen 0.0.0.0:PORT`: the serving certificate names
//! the host's addresses, its host name and every `--tls-san`, so kubectl on
//! another machine reaches it with the written kubeconfig's CA; and the data
//! dir keeps what it holds (Secrets, keys, the token) to its owner.

use std::net::{IpAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use designate_e2e::{Kubectl, kubectl_versions, operator_bin, tail, wait_for};

/// A `standalone` on every address; killed on drop.
struct OnEveryAddress {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl OnEveryAddress {
    /// Starts it on `data` (logs beside it: the data dir holds only what
    /// the binary writes) and waits for its banner.
    fn start(data: &Path, extra: &[&str]) -> Self {
        let logs = data.with_extension("logs");
        std::fs::create_dir_all(&logs).unwrap();
        let (stdout, log) = (logs.join("stdout"), logs.join("stderr"));
        let child = Command::new(operator_bin())
            .args(["standalone", "--data-dir"])
            .arg(data)
            .args(["--kube-listen", "0.0.0.0:0", "--mdns-listen", "127.0.0.1:0"])
            .args(["--rest-listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut started = Self {
            child,
            port: 0,
            log,
        };
        started.port = wait_for(Duration::from_secs(60), "the banner", || {
            if let Ok(Some(status)) = started.child.try_wait() {
                panic!("exited with {status}:\n{}", tail(&started.log, 40));
            }
            let banner = std::fs::read_to_string(&stdout).unwrap_or_default();
            // The REST API's line comes once the roles opened their database.
            let port = banner
                .lines()
                .find_map(|line| line.strip_prefix("listening on:"))
                .and_then(|addr| addr.trim().strip_prefix("0.0.0.0:")?.parse().ok());
            match port {
                Some(port) if banner.contains("REST API:") => Ok(port),
                _ => Err(banner),
            }
        });
        started
    }
}

impl Drop for OnEveryAddress {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- standalone's log ---\n{}", tail(&self.log, 60));
        }
    }
}

/// The address this host reaches others from (no packet is sent).
fn host_address() -> IpAddr {
    let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
    socket
        .connect("198.51.100.1:53")
        .expect("this test needs a non-loopback IPv4 address with a route");
    let ip = socket.local_addr().unwrap().ip();
    assert!(!ip.is_loopback() && !ip.is_unspecified(), "{ip}");
    ip
}

#[test]
fn the_certificate_names_every_address_and_the_given_names() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let host = host_address();
    let mut standalone = OnEveryAddress::start(&data, &["--tls-san", "api.example.net"]);
    let first_kubeconfig = std::fs::read_to_string(data.join("kubeconfig")).unwrap();
    assert!(
        first_kubeconfig.contains(&format!("server: https://127.0.0.1:{}", standalone.port)),
        "{first_kubeconfig}"
    );
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty() && !name.contains(' '));
    for (version, bin) in kubectl_versions() {
        let kubectl = Kubectl::new(
            &bin,
            data.join("kubeconfig"),
            tmp.path().join(format!("cache-{version}")),
        );
        // As from another machine: the host's address, the kubeconfig's CA and token.
        let server = format!(
            "https://{}",
            std::net::SocketAddr::new(host, standalone.port)
        );
        kubectl.ok(&["--server", &server, "get", "namespaces"]);
        // Through a name (a DNS record or a load balancer in front of it).
        kubectl.ok(&["--tls-server-name", "api.example.net", "get", "namespaces"]);
        if let Some(name) = &host_name {
            kubectl.ok(&["--tls-server-name", name, "get", "namespaces"]);
        }
        let refused = kubectl.fail(&["--tls-server-name", "other.example.net", "get", "ns"]);
        assert!(refused.contains("certificate is valid for"), "{refused}");
    }

    // Other names at the next start: the certificate follows, the CA stays
    // (a kubeconfig copied elsewhere keeps working).
    drop(standalone);
    standalone = OnEveryAddress::start(&data, &["--tls-san", "other.example.net,192.0.2.250"]);
    let kubeconfig = std::fs::read_to_string(data.join("kubeconfig")).unwrap();
    let ca = |config: &str| {
        config
            .lines()
            .find(|line| line.contains("certificate-authority-data:"))
            .map(str::to_string)
    };
    assert!(ca(&kubeconfig).is_some(), "{kubeconfig}");
    assert_eq!(ca(&kubeconfig), ca(&first_kubeconfig));
    let (version, bin) = kubectl_versions().remove(0);
    let kubectl = Kubectl::new(
        &bin,
        data.join("kubeconfig"),
        tmp.path().join(format!("cache-{version}")),
    );
    kubectl.ok(&["--tls-server-name", "other.example.net", "get", "ns"]);
    kubectl.ok(&["--tls-server-name", "192.0.2.250", "get", "ns"]);
    let refused = kubectl.fail(&["--tls-server-name", "api.example.net", "get", "ns"]);
    assert!(refused.contains("certificate is valid for"), "{refused}");
    drop(standalone);
}

#[test]
fn a_name_that_cannot_be_in_a_certificate_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let output = Command::new(operator_bin())
        .args(["standalone", "--data-dir"])
        .arg(tmp.path().join("data"))
        .args(["--kube-listen", "0.0.0.0:0", "--tls-san", "bad name"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--tls-san <NAME>"), "{stderr}");
    assert!(!tmp.path().join("data").exists());
}

#[cfg(unix)]
#[test]
fn the_data_dir_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let modes = |dir: &Path| {
        let mut found = Vec::new();
        let mut dirs = vec![dir.to_path_buf()];
        while let Some(dir) = dirs.pop() {
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
            found.push((dir.clone(), mode));
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                    found.push((path, mode));
                }
            }
        }
        found
    };
    // Every file it makes: both databases with their WAL, keys, token, kubeconfig.
    let expected = [
        "apiserver.db",
        "apiserver.db-wal",
        "apiserver.db-shm",
        "designate.db",
        "designate.db-wal",
        "designate.db-shm",
        "kubeconfig",
        "token",
        "pki",
        "pki/ca.key",
        "pki/ca.crt",
    ];
    let all_there = || {
        wait_for(Duration::from_secs(20), "the data files", || match expected
            .iter()
            .find(|file| !data.join(file).exists())
        {
            Some(missing) => Err(format!("{missing} missing")),
            None => Ok(()),
        })
    };
    let check = || {
        for (path, mode) in modes(&data) {
            let wanted = if path.is_dir() { 0o700 } else { 0o600 };
            assert_eq!(mode, wanted, "{} is {mode:o}", path.display());
        }
    };
    let standalone = OnEveryAddress::start(&data, &[]);
    all_there();
    check();
    drop(standalone);

    // What an earlier version left readable is made private at the next start.
    for file in [
        "kubeconfig",
        "apiserver.db",
        "designate.db-wal",
        "pki/ca.key",
    ] {
        std::fs::set_permissions(data.join(file), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let standalone = OnEveryAddress::start(&data, &[]);
    all_there();
    check();
    drop(standalone);
}
