//! Rdata rules per record type, as Designate 23 applies them: cases from
//! Designate's own unit tests (`tests/unit/objects/test_rrdata_*.py`) and edge
//! cases checked against Designate's code. Accepted records are stored as
//! given, so every accepted case must come back unchanged.

use designate_central::{Error, RecordError, rdata};

const SHA256: &str = "72d30d211ce8c464de2811e534de23b9be9b4dc4a1b2c3d4e5f60718293a4b5c";
const SHA512: &str = concat!(
    "72d30d211ce8c464de2811e534de23b9be9b4dc4a1b2c3d4e5f60718293a4b5c",
    "72d30d211ce8c464de2811e534de23b9be9b4dc4a1b2c3d4e5f60718293a4b5c"
);
const B64: &str = "KR1L0GbocaIOOim1+qdHtOSrDcOsGiI2NCcxuX2/Tqc=";
const IP6: &str = "2001:db8:3333:4444:5555:6666:7777:8888";

/// Each record is accepted alone and kept verbatim.
fn accepts(type_: &str, cases: &[&str]) {
    for data in cases {
        assert_eq!(
            rdata::normalize(type_, data).as_deref(),
            Some(*data),
            "{type_} {data:?}"
        );
    }
}

/// Each record is refused alone, with Designate's per-record message.
fn rejects(type_: &str, cases: &[&str]) {
    for data in cases {
        assert_eq!(rdata::normalize(type_, data), None, "{type_} {data:?}");
        let err = rdata::normalize_records(type_, &[data.to_string()]).unwrap_err();
        let message = format!("'{data}' is not a '{type_}' Record");
        assert_eq!(
            err,
            Error::InvalidRecords(vec![RecordError { index: 0, message }])
        );
    }
}

/// A: a strict dotted quad (no leading zeros, no spaces).
#[test]
fn a() {
    accepts("A", &["192.0.2.1", "0.0.0.0", "255.255.255.255"]);
    rejects(
        "A",
        &[
            "2001:db8:0:1::1",
            "TXT",
            "192.0.002.1",
            "01.2.3.4",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.",
            " 1.2.3.4",
            "1.2.3.4\n",
            "0x1.2.3.4",
            "1.2.3.٤",
            "",
        ],
    );
}

/// AAAA: glibc's `inet_pton`, with `::` and a trailing dotted quad.
#[test]
fn aaaa() {
    accepts(
        "AAAA",
        &[
            "2001:db8:0:1::1",
            "::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "2001:DB8::A",
            "::ffff:192.0.2.1",
            "1:2:3:4:5:6:192.0.2.1",
            "0000:0000::",
        ],
    );
    rejects(
        "AAAA",
        &[
            "192.0.2.1",
            "TXT",
            "1:2:3:4:5:6:7:8:9",
            "::1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7",
            "1::2::3",
            ":1::",
            "1:",
            ":::",
            "00000::",
            "::ffff:1.2.3.04",
            "1:2:3:4:5:6:7:1.2.3.4",
            "::1.2.3",
            "fe80::1%eth0",
            "::/64",
            "::1\n",
            " ::1",
            "",
        ],
    );
}

/// MX: canonical priority; the exchange only has to end with a dot.
#[test]
fn mx() {
    accepts(
        "MX",
        &[
            "0 mail.example.org.",
            "10 mail.example.org.",
            "65535 mx.",
            "10 .",
            "10 !.",
            "10 Mail_Server.example.",
        ],
    );
    rejects(
        "MX",
        &[
            "-0 mail.example.test.",
            "10 mail.example.test",
            "010 mail.",
            "+10 mail.",
            "65536 mail.",
            "10  mail.",
            "10\tmail.",
            "10 mail. x.",
            "mail.",
            "10",
            &["10 ", &"a".repeat(255), "."].concat(),
        ],
    );
}

/// SRV: numbers read by Python's `int()` (sign, `_`, Unicode digits, spaces).
#[test]
fn srv() {
    accepts(
        "SRV",
        &[
            "10 0 5060 server1.example.org.",
            "0 0 0 a.",
            "65535 65535 65535 x.y.",
            "010 +0 5_060 a.",
            "10\t 0 5060 a.",
            "١٠ 0 5060 a.",
        ],
    );
    rejects(
        "SRV",
        &[
            "10 0",
            "10 0 5060",
            "10 0 5060 a",
            "65536 0 1 a.",
            "-1 0 1 a.",
            "10  0 5060 a.",
            "10 0 5060 a. x",
            "\u{1c}10 0 5060 a.",
            "1__0 0 5060 a.",
        ],
    );
}

/// SOA: plain domains (no escaped dots) and ranged numbers.
#[test]
fn soa() {
    accepts(
        "SOA",
        &[
            "example.org. bar.example.org. 1 60 5 999 1",
            "ns1.example.org. first.last.example.com. 4294967295 2147483647 0 0 0",
        ],
    );
    rejects(
        "SOA",
        &[
            "example.org. bar.example.org. 0 60 5 999 1",
            "example.org. bar.example.org. 4294967296 60 5 999 1",
            "ns1.example.org. first\\.last.example.com. 1 2 3 4 5",
            "example.org. bar.example.org. 1 60 5 999",
            "example.org bar.example.org. 1 60 5 999 1",
            "example.org. bar.example.org. 1 2147483648 5 999 1",
        ],
    );
}

/// NAPTR: optionally quoted strings with no spaces, a sed-like regexp.
#[test]
fn naptr() {
    accepts(
        "NAPTR",
        &[
            "0 0 S SIP+D2U !^.*$!sip:customer-service@example.com! _sip._udp.example.com.",
            "0 0 \"S\" \"SIP+D2U\" \"!^.*$!sip:support@example.com!\" _sip._udp.example.com.",
            "0 0 \"\" \"\" \"\" test.",
            "65535 65535 \"SAUP\" \"bloop\" \":beep::\" test.",
            "1 2 u E2U+sip !a!b!i x.",
            "1 1 \" \" \" x.",
        ],
    );
    rejects(
        "NAPTR",
        &[
            "0 0 \"S\n\" \"SIP+D2U\" \"\" _sip._udp.example.com.",
            "0 0 \"S\" \"SIP+D2U\n\" \"\" _sip._udp.example.com.",
            "0 0 \"S\" \"SIP+D2U\" \"!^.*$!sip:x@example.com!\n\" _sip._udp.example.com.",
            "0 0 X SIP x.",
            "0 0 S 1SIP x.",
            "0 0 S SIP 1a1b1 x.",
            "0 0 S SIP !a! x.",
            "0 0 \"\" \"\" \"\" .",
            "0 0 S SIP !a!b! x",
            "65536 0 S SIP \"\" x.",
            "0 0 S \"SIP D2U\" \"\" x.",
            "0 0 S SIP \"\" x. y.",
        ],
    );
}

/// TXT: one string up to 255 characters, split strings beyond.
#[test]
fn txt() {
    accepts(
        "TXT",
        &[
            "foo",
            "\"foo bar\"",
            "\"a \\\"quoted\\\" word\"",
            "\"",
            &["\"", &"x".repeat(253), "\""].concat(),
            &"x".repeat(255),
            &["\"", &"a".repeat(200), "\" \"", &"b".repeat(200), "\""].concat(),
            &[&"a".repeat(200), "\" \"", &"b".repeat(200), "\""].concat(),
            "\"foo\\\"",
            &["\"", &"a".repeat(200), "\" \"", &"b".repeat(200), "\\\""].concat(),
        ],
    );
    rejects(
        "TXT",
        &[
            "foo bar",
            "\"foo\"bar\"",
            "\"foo\" \"bar\"",
            "\"foo\nbar\"",
            "\"foo",
            "foo\"",
            "foo\\",
            "foo\tbar",
            &"x".repeat(256),
            &["\"", &"x".repeat(254), "\""].concat(),
            &["\"", &"a".repeat(254), "\" \"b\""].concat(),
            &"a".repeat(300),
        ],
    );
}

/// SPF: TXT's quoting without its length or quote-balance checks.
#[test]
fn spf() {
    accepts(
        "SPF",
        &[
            "\"v=spf1 include:_spf.example.org ~all\"",
            "v=spf1",
            "\"foo bar",
            "foo bar\"",
            &"x".repeat(300),
            "foo\\",
        ],
    );
    rejects(
        "SPF",
        &["foo bar", "\"foo\"bar\"", "\"foo\nbar\"", "foo\u{1c}bar"],
    );
}

/// SSHFP: canonical numbers, a 10-40 or 64 digit hex fingerprint.
#[test]
fn sshfp() {
    accepts(
        "SSHFP",
        &[
            "0 0 72d30d211ce8c464de2811e534de23b9be9b4dc4",
            &["4 2 ", SHA256].concat(),
            "1 1 0123456789",
            "1 1 ABCDEF0123",
        ],
    );
    rejects(
        "SSHFP",
        &[
            "-0 0 72d30d211ce8c464de2811e534de23b9be9b4dc4",
            "0 -0 72d30d211ce8c464de2811e534de23b9be9b4dc4",
            "5 0 0123456789",
            "0 3 0123456789",
            "01 1 0123456789",
            "1 1 012345678",
            &["1 1 ", &"a".repeat(41)].concat(),
            &["1 1 ", &"a".repeat(63)].concat(),
            "1 1 012345678g",
            "1 1",
            "1 1 0123456789 x",
        ],
    );
}

/// TLSA: parentheses and whitespace-split hex, hash lengths by matching type.
#[test]
fn tlsa() {
    accepts(
        "TLSA",
        &[
            &["3 1 1 ", SHA256].concat(),
            &["3 1 2 ", SHA512].concat(),
            "3 1 0 (\n    AA BB CC DD\n    EE FF 00 11\n)",
            "3 1 0 aa bb cc dd",
            "3 1 0 AABBCC",
            "255 255 255 ab",
            &["3 1 01 ", SHA256].concat(),
            "3\t1\u{3000}0 aa",
        ],
    );
    rejects(
        "TLSA",
        &[
            "3 1 0 zzxxcc",
            "3 1 0 abc",
            "3 1 1",
            "usage selector match aabbcc",
            "3 1 1 aabbccddeeff",
            &["3 1 2 ", SHA256].concat(),
            "3 1 0 invalid",
            "3 1 1 (   )",
            "3 1 1    ",
            "3 1 1 ",
            "256 1 0 aa",
            "3 1 0 éé",
        ],
    );
}

/// CERT: mnemonics or ASCII numbers, leniently read base64.
#[test]
fn cert() {
    accepts(
        "CERT",
        &[
            &["1 1 255 ", B64].concat(),
            &["DPKIX 1 RSASHA256 ", B64].concat(),
            "PGP 0 DSA-NSEC3-SHA1 ",
            "00001 +1 001 QQ==",
            "URI 65535 ED448 QQ== QQ==",
            "1 1 1 QQ é QQ",
        ],
    );
    rejects(
        "CERT",
        &[
            &["99999 1 RSASHA256 ", B64].concat(),
            &["FAKETYPE 1 RSASHA256 ", B64].concat(),
            &["DPKIX 1 256 ", B64].concat(),
            &["DPKIX 1 FAKESHA256 ", B64].concat(),
            "DPKIX 1 RSASHA256 KR1L0GbocaIOOim1+qdHtOSrDcOsGiI2NCcxuX2/Tqc",
            &["3\n 1 RSASHA256 ", B64].concat(),
            &["DPKIX 1 5\n ", B64].concat(),
            "DPKIX 1 RSASHA256 KR1L0GbocaIOOim1+qdHtOSrDcOsGiI2\nNCcxuX2/Tqc=",
            "pkix 1 1 QQ==",
            "١ 1 1 QQ==",
            "1 65536 1 QQ==",
            "1 1 1",
        ],
    );
}

/// CAA: unquoted values; issue domains without trailing dot; http(s) or mailto iodef.
#[test]
fn caa() {
    accepts(
        "CAA",
        &[
            "0 issue ca.example.net",
            "1 issuewild ca.example.net; policy=ev",
            "0 iodef https://example.net/",
            "0 iodef http://example.net/report",
            "0 iodef mailto:security@example.net",
            "0 iodef mailto:security+caa@example.net",
            "0 issue a.b; x=y; z=w",
            "0 issue ca.net;\tkey=v trailing",
        ],
    );
    rejects(
        "CAA",
        &[
            "0 1 2",
            &["0 issue ", &"a".repeat(64), ".net"].concat(),
            "0 issue abc.",
            "0 issue abc;def",
            &["0 iodef mailto:me@", &"a".repeat(64), ".net"].concat(),
            "0 iodef mailto:me@example.net.",
            &["0 iodef https://", &"a".repeat(64), ".net/"].concat(),
            "0 iodef https://example.net./",
            "0 iodef https://",
            "2 issue ca.net",
            "0 issue ;",
            "0 issue \"ca.net\"",
            "0 iodef https://ca.net:8443/",
            "0 iodef https://ca.net",
            "0 ISSUE ca.net",
            "0 issue ca.net;policy=ev",
            "0 issue  ca.net",
            "0",
        ],
    );
}

/// HTTPS: the supported SvcParams, without `dohpath`.
#[test]
fn https() {
    accepts(
        "HTTPS",
        &[
            "1 sample.example.org. alpn=http/1.1,h2",
            &[
                "1 sample.example.org. alpn=h3,h2,http/1.1 ipv4hint=1.2.3.4,9.8.7.6 ipv6hint=",
                IP6,
                ",2001:db8:3333:4444:cccc:dddd:eeee:ffff port=888",
            ]
            .concat(),
            "1 sample.example.org. alpn=http/1.1 no-default-alpn port=8000",
            &[
                "1 sample.example.org. ipv4hint=192.168.1.2 ipv6hint=",
                IP6,
                " alpn=h2 mandatory=alpn,ipv4hint",
            ]
            .concat(),
            "0 a.",
            "1 a. ech=c2FtcGxlLmV4YW1wbGUub3JnLg==",
            "1 a. port=三",
            "1 a. alpn=h2 alpn=foo=bar",
            "1 a. mandatory=mandatory",
            "1 a. ipv6hint=1:2:3:4:5:6:1.2.3.4\n",
        ],
    );
    rejects(
        "HTTPS",
        &[
            "1 sample.example.org. alpn=foo",
            "1 sample.example.org. port=foo",
            "1 sample.example.org. ech=foo//",
            "1 sample.example.org. ipv4hint=foo,192.168.1.2",
            "1 sample.example.org. ipv6hint=foo",
            "1 sample.example.org. no-default-alpn port=8000",
            "1 doh.example. alpn=h2 dohpath=/dns-query{?dns}",
            &[
                "1 sample.example.org. ipv6hint=",
                IP6,
                " mandatory=alpn,ipv4hint",
            ]
            .concat(),
            "1 a. port=123456",
            "1 a. alpn=h2 ",
            "1 a.  alpn=h2",
            "1",
            "65536 a.",
            "1 a",
            "1 a. key1=x",
            "1 a. alpn",
            "1 a. ech=QQ=é",
        ],
    );
}

/// SVCB: HTTPS's params plus `dohpath`.
#[test]
fn svcb() {
    accepts(
        "SVCB",
        &[
            "1 sample.example.org. alpn=http/1.1,h2 dohpath=/dns-query{?dns}",
            "1 sample.example.org. alpn=http/1.1,h2",
            "1 sample.example.org. dohpath=/dns-query{?dns}",
            "1 sample.example.org. alpn=h3",
            "1 sample.example.org. alpn=h3,h2,http/1.1",
            "1 sample.example.org. alpn=h3 ipv4hint=1.2.3.4 ech=c2FtcGxlLmV4YW1wbGUub3JnLg== dohpath=/dns-query{?dns}",
        ],
    );
    rejects(
        "SVCB",
        &[
            "1 sample.example.org. alpn=foo dohpath=/dns-query{?dns}",
            "1 sample.example.org. port=foo",
            "1 sample.example.org. alpn=h3 echconfig=c2FtcGxl",
            "1 sample.example.org. ipv4hint=foo,192.168.1.2",
            "1 sample.example.org. ech=foo//",
            "1 sample.example.org. ech=textstring",
            "1 sample.example.org. ipv6hint=foo",
            "1 sample.example.org. bazz=foo",
            "1 sample.example.org. dohpath=dns-query{?dns}",
            "1 sample.example.org. dohpath=/dns-query{?test}",
            "1 sample.example.org. dohpath=/{dns}",
        ],
    );
}

/// CNAME, NS, PTR: a domain name (`RE_ZONENAME`): absolute, at most 254
/// characters, labels of `[A-Za-z0-9_-]`; no root, no wildcard.
#[test]
fn cname_ns_ptr() {
    for type_ in ["CNAME", "NS", "PTR"] {
        accepts(
            type_,
            &[
                "server1.example.org.",
                "1.2.0.192.in-addr.arpa.",
                "_sip._udp.Example.ORG.",
                "a-b.c_d.e.",
                &[&"a".repeat(63), "."].concat(),
                &[
                    &"a".repeat(63),
                    ".",
                    &"a".repeat(63),
                    ".",
                    &"a".repeat(63),
                    ".",
                    &"a".repeat(61),
                    ".",
                ]
                .concat(),
            ],
        );
        rejects(
            type_,
            &[
                "10",
                "invalid_data",
                "example.org",
                ".",
                "a..b.",
                "-a.example.",
                "a-.example.",
                "*.example.org.",
                "a b.",
                "é.example.",
                &[&"a".repeat(64), "."].concat(),
                &[
                    &"a".repeat(63),
                    ".",
                    &"a".repeat(63),
                    ".",
                    &"a".repeat(63),
                    ".",
                    &"a".repeat(62),
                    ".",
                ]
                .concat(),
                "a.\n",
                "",
            ],
        );
    }
}

fn strings(records: &[&str]) -> Vec<String> {
    records.iter().map(|r| r.to_string()).collect()
}

#[test]
fn every_supported_type_has_rules() {
    // Designate takes an empty TXT or SPF record; nothing else.
    for type_ in rdata::SUPPORTED_TYPES {
        let want = ["TXT", "SPF"].contains(type_).then(String::new);
        assert_eq!(rdata::normalize(type_, ""), want, "{type_}");
    }
    assert_eq!(rdata::normalize("DS", "1 2 3 abcd"), None);
    assert_eq!(rdata::normalize("a", "192.0.2.1"), None);
}

#[test]
fn check_type_messages() {
    let all: Vec<String> = rdata::SUPPORTED_TYPES
        .iter()
        .map(|t| t.to_string())
        .collect();
    assert_eq!(rdata::check_type("TXT", &all), Ok(()));
    let invalid = |t: &str| {
        Err(Error::InvalidObject(format!(
            "'{t}' is not a valid record type"
        )))
    };
    let unsupported = |t: &str| {
        Err(Error::InvalidObject(format!(
            "'{t}' is not a supported record type"
        )))
    };
    for t in ["DS", "a", "txt", "", "ANY"] {
        assert_eq!(rdata::check_type(t, &all), invalid(t));
    }
    let some = strings(&["A", "AAAA", "CNAME"]);
    assert_eq!(rdata::check_type("A", &some), Ok(()));
    assert_eq!(rdata::check_type("PTR", &some), unsupported("PTR"));
    // Other Designate objects with a list class count as known types.
    for t in ["Zone", "RecordSet", "Tld"] {
        assert_eq!(rdata::check_type(t, &all), unsupported(t));
        assert_eq!(rdata::check_type(t, &strings(&[t])), unsupported(t));
    }
}

#[test]
fn records_keep_order_and_spelling() {
    let records = strings(&["192.0.2.2", "192.0.2.1"]);
    assert_eq!(rdata::normalize_records("A", &records), Ok(records.clone()));
    let tlsa = strings(&["3 1 0 (\n  AA BB\n  cc dd )"]);
    assert_eq!(rdata::normalize_records("TLSA", &tlsa), Ok(tlsa.clone()));
    assert_eq!(rdata::normalize_records("TXT", &[]), Ok(vec![]));
}

#[test]
fn every_bad_record_is_reported() {
    let err = rdata::normalize_records("A", &strings(&["1.2.3", "192.0.2.1", "x"])).unwrap_err();
    assert_eq!(
        err,
        Error::InvalidRecords(vec![
            RecordError {
                index: 0,
                message: "'1.2.3' is not a 'A' Record".into()
            },
            RecordError {
                index: 2,
                message: "'x' is not a 'A' Record".into()
            },
        ])
    );
    assert_eq!(err.code(), 400);
    assert_eq!(err.error_type(), "invalid_object");
}

#[test]
fn caa_without_value_fails_the_whole_set() {
    // Designate's parser raises IndexError here, which aborts validation with
    // a generic message instead of a per-record error.
    let message = "Provided object is not valid. Got a IndexError error with message list \
                   index out of range";
    for records in [
        &["0 issue"][..],
        &["2 issue x", "0 issue ca.net", "1 foo", "3 x"],
    ] {
        assert_eq!(
            rdata::normalize_records("CAA", &strings(records)),
            Err(Error::InvalidObject(message.into()))
        );
    }
    assert_eq!(rdata::normalize("CAA", "0 issue"), None);
    // Flags are checked first: out of range is a plain invalid record.
    assert!(matches!(
        rdata::normalize_records("CAA", &strings(&["2 issue"])),
        Err(Error::InvalidRecords(_))
    ));
}

#[test]
fn svcb_for_dns_servers_needs_alpn_and_dohpath() {
    let ok = |name: &str, data: &str| rdata::normalize_recordset(name, "SVCB", &strings(&[data]));
    for name in [
        "_dns.example.org.",
        "a_dns.example.org.",
        "_dns-x.example.org.",
    ] {
        for data in ["1 a. alpn=http/1.1", "1 a. alpn=h3 dohpath=/q{?dns}x"] {
            assert_eq!(ok(name, data), Ok(strings(&[data])), "{name} {data}");
        }
        for data in [
            "1 a. port=1",
            "0 a.",
            "1 a. alpn=h2",
            "1 a. alpn=h2,http/1.1",
        ] {
            let message = format!("'{data}' is not a 'SVCB' Record");
            assert_eq!(
                ok(name, data),
                Err(Error::InvalidRecords(vec![RecordError {
                    index: 0,
                    message
                }])),
                "{name} {data}"
            );
        }
    }
    // Case-sensitive, SVCB only, and ignored without a name.
    assert!(ok("_DNS.example.org.", "1 a. alpn=h2").is_ok());
    let https = rdata::normalize_recordset("_dns.example.org.", "HTTPS", &strings(&["0 a."]));
    assert!(https.is_ok());
    assert!(rdata::normalize_records("SVCB", &strings(&["1 a. alpn=h2"])).is_ok());
}
