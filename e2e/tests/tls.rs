//! `standalone --kube-tls --kube-token`: HTTPS with the CA in the written
//! kubeconfig, the token required, and the in-process controllers unaffected.

use designate_e2e::{Kubectl, Standalone, at, fixture, kubectl_versions, wait_for};

#[test]
fn https_with_bearer_token() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let mut standalone =
        Standalone::try_start_with(&data, &["--kube-tls", "--kube-token", "t0ken"])
            .unwrap_or_else(|e| panic!("{e:#}"));
    let kubeconfig = std::fs::read_to_string(standalone.kubeconfig()).expect("kubeconfig");
    assert!(kubeconfig.contains("server: https://"), "{kubeconfig}");
    assert!(
        kubeconfig.contains("certificate-authority-data:"),
        "{kubeconfig}"
    );
    assert!(kubeconfig.contains("token: t0ken"), "{kubeconfig}");
    let without_token = tmp.path().join("no-token");
    std::fs::write(
        &without_token,
        kubeconfig.replace("token: t0ken", "token: wrong"),
    )
    .unwrap();
    for (version, bin) in kubectl_versions() {
        let kubectl = Kubectl::new(
            &bin,
            standalone.kubeconfig(),
            tmp.path().join(format!("cache-{version}")),
        );
        let zone = fixture("zone-example-com.yaml");
        kubectl.ok(&["apply", "-f", zone.to_str().unwrap()]);
        // The controllers reach the API in-process, without the token.
        wait_for(
            std::time::Duration::from_secs(20),
            "zone ACTIVE over https",
            || {
                let zone = kubectl.get_json(&["zone", "example-com"]);
                match at(&zone, "/status/status").as_str() {
                    Some("ACTIVE") => Ok(()),
                    other => Err(format!("status {other:?}")),
                }
            },
        );
        let refused = Kubectl::new(
            &bin,
            &without_token,
            tmp.path().join(format!("cache-bad-{version}")),
        );
        let stderr = refused.fail(&["get", "zones"]);
        assert!(stderr.contains("provide credentials"), "{stderr}");
    }
    standalone.stop();
}
