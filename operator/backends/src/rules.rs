//! What a pool target may name on the operator's machine. A Pool is data
//! whoever may write Pools controls; its target options must not make the
//! operator run programs or read files of their choosing, nor reach a
//! PowerDNS API in the clear across the network, unless the operator said
//! so. Pure: [`TargetRules::check`] looks at the option values only
//! (paths lexically: a file that names `..` is refused).

use std::net::IpAddr;
use std::path::{Component, Path, PathBuf};

use crate::{Error, Target};

/// Options naming files the drivers read.
const FILE_OPTIONS: [&str; 3] = ["rndc_key_file", "rndc_config_file", "api_ca_cert"];

/// The operator's rules for pool targets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetRules {
    /// Directories the files a target names must be in.
    pub file_dirs: Vec<PathBuf>,
    /// Directories a `zone_file_dir` may be (or be in): the operator writes
    /// and removes zone files there. None unless the operator names some.
    pub zone_file_dirs: Vec<PathBuf>,
    /// Programs `rndc_bin_path` may name.
    pub programs: Vec<String>,
    /// Whether a PowerDNS API may be spoken to over plain HTTP off loopback
    /// (its API key would cross the network in the clear).
    pub insecure_http: bool,
}

impl Default for TargetRules {
    fn default() -> Self {
        Self {
            file_dirs: ["/etc/designate", "/etc/bind", "/etc/powerdns"]
                .map(PathBuf::from)
                .to_vec(),
            zone_file_dirs: Vec::new(),
            programs: ["rndc", "/usr/sbin/rndc", "/usr/bin/rndc"]
                .map(str::to_string)
                .to_vec(),
            insecure_http: false,
        }
    }
}

fn refused(option: &str, message: String) -> Error {
    Error::TargetNotAllowed {
        option: option.to_string(),
        message,
    }
}

impl TargetRules {
    /// Whether `target` keeps to the rules.
    pub fn check(&self, target: &Target) -> Result<(), Error> {
        if let Some(program) = target.get("rndc_bin_path")
            && !self.programs.iter().any(|p| p == program)
        {
            return Err(refused(
                "rndc_bin_path",
                format!("{program:?} is not one of the programs the operator allows"),
            ));
        }
        for option in FILE_OPTIONS {
            if let Some(file) = target.get(option)
                && !self.file_allowed(Path::new(file))
            {
                return Err(refused(
                    option,
                    format!("{file:?} is not in a directory the operator allows"),
                ));
            }
        }
        if let Some(dir) = target.get("zone_file_dir")
            && !within(Path::new(dir), &self.zone_file_dirs)
        {
            return Err(refused(
                "zone_file_dir",
                format!("{dir:?} is not a directory the operator lets targets write zone files to"),
            ));
        }
        if let Some(endpoint) = target.get("api_endpoint")
            && !self.insecure_http
            && clear_text_off_loopback(endpoint)
        {
            return Err(refused(
                "api_endpoint",
                format!(
                    "{endpoint:?} is plain HTTP off loopback: use https, or let the operator allow it"
                ),
            ));
        }
        Ok(())
    }

    fn file_allowed(&self, file: &Path) -> bool {
        within(file, &self.file_dirs)
    }
}

/// Whether `path` is absolute, plain (no `..`) and one of `dirs` or in one.
fn within(path: &Path, dirs: &[PathBuf]) -> bool {
    let plain = path.is_absolute()
        && path
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    plain && dirs.iter().any(|dir| path.starts_with(dir))
}

/// Whether `endpoint` is `http://` to a host other than loopback.
fn clear_text_off_loopback(endpoint: &str) -> bool {
    let Some(rest) = endpoint.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    !loopback
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(option: &str, value: &str) -> Target {
        Target::new("bind9").option(option, value)
    }

    #[test]
    fn programs_and_files_only_where_the_operator_allows() {
        let rules = TargetRules::default();
        assert!(
            rules
                .check(&bind("rndc_bin_path", "/usr/sbin/rndc"))
                .is_ok()
        );
        assert!(
            rules
                .check(&bind("rndc_key_file", "/etc/designate/rndc.key"))
                .is_ok()
        );
        for (option, value) in [
            ("rndc_bin_path", "/bin/sh"),
            ("rndc_bin_path", "/tmp/rndc"),
            (
                "rndc_key_file",
                "/var/run/secrets/kubernetes.io/serviceaccount/token",
            ),
            ("rndc_config_file", "/etc/designate/../shadow"),
            ("rndc_config_file", "etc/designate/rndc.conf"),
            ("api_ca_cert", "/root/ca.pem"),
        ] {
            let error = rules.check(&bind(option, value)).unwrap_err();
            assert_eq!(error.reason(), "TargetNotAllowed", "{option}={value}");
            assert!(error.to_string().contains(option), "{error}");
        }
        let widened = TargetRules {
            file_dirs: vec!["/srv/keys".into()],
            ..TargetRules::default()
        };
        assert!(
            widened
                .check(&bind("rndc_key_file", "/srv/keys/a.key"))
                .is_ok()
        );
    }

    #[test]
    fn zone_files_are_written_only_where_the_operator_allows() {
        let target = bind("zone_file_dir", "/var/lib/designate/zones");
        let error = TargetRules::default().check(&target).unwrap_err();
        assert_eq!(error.reason(), "TargetNotAllowed");
        assert!(error.to_string().contains("zone_file_dir"), "{error}");
        let rules = TargetRules {
            zone_file_dirs: vec!["/var/lib/designate".into()],
            ..TargetRules::default()
        };
        assert!(rules.check(&target).is_ok());
        for elsewhere in ["/etc", "/var/lib/designate/../../etc", "var/lib/designate"] {
            let error = rules.check(&bind("zone_file_dir", elsewhere)).unwrap_err();
            assert_eq!(error.reason(), "TargetNotAllowed", "{elsewhere}");
        }
    }

    #[test]
    fn plain_http_to_powerdns_only_on_loopback_unless_allowed() {
        let pdns = |endpoint: &str| Target::new("pdns4").option("api_endpoint", endpoint);
        let rules = TargetRules::default();
        for fine in [
            "http://127.0.0.1:8081",
            "http://localhost:8081",
            "http://[::1]:8081",
            "https://pdns.example.net:8081",
        ] {
            assert!(rules.check(&pdns(fine)).is_ok(), "{fine}");
        }
        for clear in ["http://192.0.2.1:8081", "http://pdns.example.net"] {
            assert!(rules.check(&pdns(clear)).is_err(), "{clear}");
        }
        let opted_in = TargetRules {
            insecure_http: true,
            ..TargetRules::default()
        };
        assert!(opted_in.check(&pdns("http://192.0.2.1:8081")).is_ok());
    }
}
