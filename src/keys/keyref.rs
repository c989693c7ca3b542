//! Reads the bytes behind a key reference exactly as a Pulsar broker would:
//! `data:` and `file:` URLs first, then an existing path, then bare base64.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use super::KeyError;

/// Reads the key bytes a reference names; file bytes are used exactly as stored.
pub fn read_keyref(reference: &str) -> Result<Vec<u8>, KeyError> {
    if let Some(rest) = reference.strip_prefix("data:") {
        return read_data_url(reference, rest);
    }
    if let Some(rest) = reference.strip_prefix("file://") {
        // file:///etc/key → /etc/key; file://localhost/etc/key → /etc/key
        let path = rest.strip_prefix("localhost").unwrap_or(rest);
        if !path.starts_with('/') {
            return Err(KeyError::BadReference {
                shown: shown(reference),
                reason: "a file URL needs an absolute path, as in file:///path/to/key".into(),
            });
        }
        return read_file(path);
    }
    if reference.is_empty() {
        return Err(KeyError::BadReference {
            shown: String::new(),
            reason: "it is empty; use file:///path, data:;base64,<b64>, a path, or base64".into(),
        });
    }
    let path = std::path::Path::new(reference);
    if path.exists() {
        return read_file(reference);
    }
    let looks_like_path = ["/", "./", "../", "~"]
        .iter()
        .any(|p| reference.starts_with(p));
    match decode_base64(reference) {
        // A short "base64" string that reads like a path is a missing file, not a key.
        Some(bytes) if !(looks_like_path && bytes.len() < 16) => return Ok(bytes),
        Some(_) => return read_file(reference),
        None => {}
    }
    Err(KeyError::BadReference {
        shown: shown(reference),
        reason: "no such file, and not base64 either; use file:///path, data:;base64,<b64>, \
                 a path to an existing file, or a base64 string"
            .into(),
    })
}

fn read_data_url(reference: &str, rest: &str) -> Result<Vec<u8>, KeyError> {
    let bad = |reason: &str| KeyError::BadReference {
        shown: shown(reference),
        reason: reason.into(),
    };
    let (meta, data) = rest
        .split_once(',')
        .ok_or_else(|| bad("a data URL needs a comma before the data, as in data:;base64,<b64>"))?;
    if !meta.split(';').any(|p| p.eq_ignore_ascii_case("base64")) {
        return Err(bad(
            "only base64 data URLs are accepted, as in data:;base64,<b64>",
        ));
    }
    decode_base64(data).ok_or_else(|| bad("the data after the comma is not valid base64"))
}

fn read_file(path: &str) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|e| KeyError::Unreadable {
        path: path.to_string(),
        reason: e.to_string(),
    })
}

/// Standard base64, padded or not; URL-safe alphabets are accepted too.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    STANDARD
        .decode(text)
        .or_else(|_| STANDARD_NO_PAD.decode(text))
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
        .ok()
}

/// A reference as it may appear in an error: paths whole, inline key data never.
fn shown(reference: &str) -> String {
    if reference.starts_with("data:") {
        "data:…".to_string()
    } else if reference.len() > 80 {
        format!(
            "{}…",
            &reference[..reference.char_indices().nth(40).map_or(0, |(i, _)| i)]
        )
    } else {
        reference.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_form_a_broker_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.bin");
        std::fs::write(&path, b"\x00\x01raw bytes\n").unwrap();
        let p = path.to_str().unwrap();
        assert_eq!(read_keyref(p).unwrap(), b"\x00\x01raw bytes\n");
        assert_eq!(
            read_keyref(&format!("file://{p}")).unwrap(),
            b"\x00\x01raw bytes\n"
        );
        assert_eq!(read_keyref("data:;base64,aGVsbG8=").unwrap(), b"hello");
        assert_eq!(
            read_keyref("data:application/octet-stream;base64,aGVsbG8=").unwrap(),
            b"hello"
        );
        assert_eq!(read_keyref("aGVsbG8=").unwrap(), b"hello");
    }

    #[test]
    fn bad_references_say_what_is_accepted_and_hide_inline_data() {
        let err = read_keyref("data:;base64,@@@secret@@@")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not valid base64") && !err.contains("secret"),
            "{err}"
        );
        let err = read_keyref("data:text/plain,hello")
            .unwrap_err()
            .to_string();
        assert!(err.contains("base64"), "{err}");
        let err = read_keyref("/no/such/file").unwrap_err().to_string();
        assert!(err.contains("no such file"), "{err}");
        let err = read_keyref("file:///no/such/file").unwrap_err().to_string();
        assert!(
            err.contains("cannot read key file '/no/such/file'"),
            "{err}"
        );
        let err = read_keyref("file://relative").unwrap_err().to_string();
        assert!(err.contains("absolute path"), "{err}");
    }
}
