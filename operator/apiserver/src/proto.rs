//! Decoding of the protobuf request bodies kubectl ≥ 1.32 sends for
//! built-in kinds (`kubectl create namespace|configmap|secret`): the
//! `k8s\0` magic, a `runtime.Unknown` envelope, then the object in the
//! field numbers of k8s.io/api's generated.proto. Only the kinds and
//! fields a client creates are decoded; answers are always JSON (the
//! clients accept it).

use serde_json::{Map, Value, json};

use crate::error::ApiError;

const MAGIC: &[u8] = b"k8s\0";
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// One protobuf field: number and payload.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn fields(mut buf: &[u8]) -> Result<Vec<(u64, Field<'_>)>, ApiError> {
    let bad = || ApiError::bad_request("malformed protobuf body");
    let mut out = Vec::new();
    while !buf.is_empty() {
        let key = varint(&mut buf).ok_or_else(bad)?;
        let field = match key & 7 {
            0 => Field::Varint(varint(&mut buf).ok_or_else(bad)?),
            2 => {
                let len = usize::try_from(varint(&mut buf).ok_or_else(bad)?).map_err(|_| bad())?;
                let (bytes, rest) = (buf.get(..len).ok_or_else(bad)?, &buf[len..]);
                buf = rest;
                Field::Bytes(bytes)
            }
            1 => {
                buf = buf.get(8..).ok_or_else(bad)?;
                continue;
            }
            5 => {
                buf = buf.get(4..).ok_or_else(bad)?;
                continue;
            }
            _ => return Err(bad()),
        };
        out.push((key >> 3, field));
    }
    Ok(out)
}

fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = buf.split_first()?;
        *buf = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn text(bytes: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::bad_request("protobuf string is not UTF-8"))
}

/// A `map<string, string|bytes>` entry (key 1, value 2).
fn map_entry(bytes: &[u8], binary: bool) -> Result<(String, Value), ApiError> {
    let (mut key, mut value) = (String::new(), json!(""));
    for (n, f) in fields(bytes)? {
        match (n, f) {
            (1, Field::Bytes(b)) => key = text(b)?,
            (2, Field::Bytes(b)) if binary => value = json!(base64(b)),
            (2, Field::Bytes(b)) => value = json!(text(b)?),
            _ => {}
        }
    }
    Ok((key, value))
}

fn insert_entry(
    map: &mut Map<String, Value>,
    field: &str,
    bytes: &[u8],
    binary: bool,
) -> Result<(), ApiError> {
    let (k, v) = map_entry(bytes, binary)?;
    let entry = map.entry(field).or_insert_with(|| json!({}));
    entry[k] = v;
    Ok(())
}

fn object_meta(bytes: &[u8]) -> Result<Value, ApiError> {
    let mut meta = Map::new();
    for (n, f) in fields(bytes)? {
        match (n, f) {
            (1, Field::Bytes(b)) => drop(meta.insert("name".into(), json!(text(b)?))),
            (2, Field::Bytes(b)) => drop(meta.insert("generateName".into(), json!(text(b)?))),
            (3, Field::Bytes(b)) => drop(meta.insert("namespace".into(), json!(text(b)?))),
            (5, Field::Bytes(b)) => drop(meta.insert("uid".into(), json!(text(b)?))),
            (6, Field::Bytes(b)) => drop(meta.insert("resourceVersion".into(), json!(text(b)?))),
            (11, Field::Bytes(b)) => insert_entry(&mut meta, "labels", b, false)?,
            (12, Field::Bytes(b)) => insert_entry(&mut meta, "annotations", b, false)?,
            (14, Field::Bytes(b)) => {
                let finalizer = json!(text(b)?);
                let list = meta.entry("finalizers").or_insert_with(|| json!([]));
                if let Some(list) = list.as_array_mut() {
                    list.push(finalizer);
                }
            }
            _ => {}
        }
    }
    Ok(Value::Object(meta))
}

/// Decodes a protobuf body into the JSON object it stands for.
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| ApiError::bad_request("protobuf body without the k8s magic prefix"))?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    for (n, f) in fields(envelope)? {
        match (n, f) {
            (1, Field::Bytes(type_meta)) => {
                for (m, g) in fields(type_meta)? {
                    match (m, g) {
                        (1, Field::Bytes(b)) => api_version = text(b)?,
                        (2, Field::Bytes(b)) => kind = text(b)?,
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    let mut object = json!({"apiVersion": api_version, "kind": kind});
    for (n, f) in fields(raw)? {
        let Field::Bytes(b) = f else {
            if let ("ConfigMap" | "Secret", 4, Field::Varint(v)) = (kind.as_str(), n, f) {
                object["immutable"] = json!(v != 0);
            }
            continue;
        };
        match (kind.as_str(), n) {
            (_, 1) => object["metadata"] = object_meta(b)?,
            ("Namespace", 2) => {
                let finalizers: Result<Vec<String>, _> = fields(b)?
                    .into_iter()
                    .filter_map(|(m, g)| match (m, g) {
                        (1, Field::Bytes(s)) => Some(text(s)),
                        _ => None,
                    })
                    .collect();
                object["spec"] = json!({"finalizers": finalizers?});
            }
            ("ConfigMap", 2) => {
                insert_entry(object.as_object_mut().expect("object"), "data", b, false)?
            }
            ("ConfigMap", 3) => insert_entry(
                object.as_object_mut().expect("object"),
                "binaryData",
                b,
                true,
            )?,
            ("Secret", 2) => {
                insert_entry(object.as_object_mut().expect("object"), "data", b, true)?
            }
            ("Secret", 3) => object["type"] = json!(text(b)?),
            ("Secret", 5) => insert_entry(
                object.as_object_mut().expect("object"),
                "stringData",
                b,
                false,
            )?,
            ("Namespace" | "ConfigMap" | "Secret", _) => {}
            _ => {
                return Err(ApiError::unsupported_media_type(&format!(
                    "{MEDIA_TYPE} (kind {kind:?} only as application/json)"
                )));
            }
        }
    }
    Ok(object)
}

pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_field(n: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![((n << 3) | 2) as u8, payload.len() as u8];
        out.extend_from_slice(payload);
        out
    }

    fn envelope(kind: &str, raw: &[u8]) -> Vec<u8> {
        let type_meta = [bytes_field(1, b"v1"), bytes_field(2, kind.as_bytes())].concat();
        [
            MAGIC.to_vec(),
            bytes_field(1, &type_meta),
            bytes_field(2, raw),
        ]
        .concat()
    }

    #[test]
    fn namespace_with_labels() {
        let label = [bytes_field(1, b"team"), bytes_field(2, b"dns")].concat();
        let meta = [bytes_field(1, b"tenant-a"), bytes_field(11, &label)].concat();
        let body = envelope("Namespace", &bytes_field(1, &meta));
        let object = decode(&body).unwrap();
        assert_eq!(
            object,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tenant-a", "labels": {"team": "dns"}}})
        );
    }

    #[test]
    fn secret_data_is_base64() {
        let entry = [bytes_field(1, b"key"), bytes_field(2, b"secret!")].concat();
        let raw = [
            bytes_field(1, &bytes_field(1, b"tsig")),
            bytes_field(2, &entry),
            bytes_field(3, b"Opaque"),
        ]
        .concat();
        let object = decode(&envelope("Secret", &raw)).unwrap();
        assert_eq!(object["data"]["key"], "c2VjcmV0IQ==");
        assert_eq!(object["type"], "Opaque");
    }

    #[test]
    fn garbage_is_400_not_a_panic() {
        assert_eq!(decode(b"k8s\0\x0a\xff\xff").unwrap_err().code, 400);
        assert_eq!(decode(b"nope").unwrap_err().code, 400);
        assert_eq!(base64(b"ab"), "YWI=");
    }
}
