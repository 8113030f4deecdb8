//! One file over HTTP: resumable, verified before use, cancellable.
//!
//! Bytes go to `<dest>.part`; an interrupted transfer (a dropped
//! connection, a cancel, a killed process) keeps them, and the next try asks
//! the server for the rest with a `Range` request. Only a file whose size
//! and digest match what the server published is renamed into place, so a
//! model file either is whole and verified or is not there.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, RANGE};
use reqwest::StatusCode;
use sha2::Digest as _;

use crate::error::{Error, Result};
use crate::progress::Cancel;

/// Tries per file: a dropped connection is resumed where it stopped.
const ATTEMPTS: u32 = 4;
const CHUNK: usize = 256 * 1024;
/// How often progress is reported at most.
const REPORT_EVERY: Duration = Duration::from_millis(100);

/// What a downloaded file must be, as the server published it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Digest {
    /// The SHA-256 of the content, lower-case hex (Git LFS files).
    Sha256(String),
    /// Git's blob id: the SHA-1 of `blob <len>\0` + content (small files
    /// kept in the repository itself).
    GitBlob(String),
}

#[derive(Debug, Clone)]
pub struct Expected {
    pub size: u64,
    pub digest: Digest,
}

/// The HTTP client every model download uses: the system's proxy settings
/// (`HTTPS_PROXY`, `ALL_PROXY`) apply, connections time out rather than hang.
pub fn client() -> Result<Client> {
    Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .timeout(None)
        .user_agent(concat!("photofinder/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Internal(format!("HTTP client: {e}")))
}

/// The error for a request that never reached a server.
pub(crate) fn unreachable(url: &str, e: &reqwest::Error) -> Error {
    let host = reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_else(|| url.to_string());
    // The innermost cause says it best ("Connection refused (os error 111)",
    // "failed to lookup address information"); the layers above it repeat the URL.
    let mut cause: &dyn std::error::Error = e;
    while let Some(s) = cause.source() {
        cause = s;
    }
    Error::Offline { host, message: cause.to_string() }
}

fn failed(url: &str, message: impl Into<String>) -> Error {
    Error::Download { url: url.to_string(), message: message.into() }
}

/// Download `url` to `dest`, reporting `(bytes so far, total)`. Returns once
/// `dest` holds the verified file; on cancel the partial file stays for the
/// next try.
pub fn fetch(
    client: &Client,
    url: &str,
    dest: &Path,
    expected: &Expected,
    progress: &dyn Fn(u64, u64),
    cancel: &Cancel,
) -> Result<()> {
    let part = part_path(dest);
    let mut last_error = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(300 << attempt));
        }
        match transfer(client, url, &part, expected, progress, cancel) {
            Ok(()) => return finish(url, &part, dest, expected),
            Err(Attempt::Fatal(e)) => return Err(e),
            Err(Attempt::Retry(e)) => {
                log::info!("download {url}: {e}; trying again");
                last_error = Some(e);
            }
        }
    }
    Err(last_error.unwrap_or_else(|| failed(url, "gave up")))
}

/// Where the bytes of `dest` gather until they are verified.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    dest.with_file_name(name)
}

enum Attempt {
    /// Worth another try, resuming (the connection dropped, the server hiccuped).
    Retry(Error),
    /// Not (not found, refused, cancelled, a disk error).
    Fatal(Error),
}

fn transfer(
    client: &Client,
    url: &str,
    part: &Path,
    expected: &Expected,
    progress: &dyn Fn(u64, u64),
    cancel: &Cancel,
) -> std::result::Result<(), Attempt> {
    let io = |e: std::io::Error| Attempt::Fatal(Error::io(part, e));
    let have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    if have > expected.size {
        std::fs::remove_file(part).map_err(io)?;
        return Err(Attempt::Retry(failed(url, "the partial file was longer than the file; starting over")));
    }
    if have == expected.size {
        return Ok(());
    }
    let mut request = client.get(url);
    if have > 0 {
        request = request.header(RANGE, format!("bytes={have}-"));
    }
    let response = request.send().map_err(|e| {
        if e.is_connect() || e.is_timeout() {
            // Nothing reached a server: offline, unless it was a retry after a drop.
            if have > 0 {
                Attempt::Retry(unreachable(url, &e))
            } else {
                Attempt::Fatal(unreachable(url, &e))
            }
        } else {
            Attempt::Retry(failed(url, e.to_string()))
        }
    })?;
    let status = response.status();
    let (mut file, mut done) = match status {
        StatusCode::PARTIAL_CONTENT if have > 0 && starts_at(&response) == Some(have) => {
            (OpenOptions::new().append(true).open(part).map_err(io)?, have)
        }
        // The whole file (a server that ignores ranges, or a first try).
        StatusCode::OK => (File::create(part).map_err(io)?, 0),
        StatusCode::RANGE_NOT_SATISFIABLE => {
            std::fs::remove_file(part).map_err(io)?;
            return Err(Attempt::Retry(failed(url, "the server refused to resume; starting over")));
        }
        s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => {
            return Err(Attempt::Retry(failed(url, format!("the server answered {s}"))));
        }
        s => return Err(Attempt::Fatal(failed(url, format!("the server answered {s}")))),
    };
    if let Some(len) = response.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok()) {
        if done + len != expected.size {
            return Err(Attempt::Fatal(failed(
                url,
                format!("the server sends {} bytes, the hub lists {}", done + len, expected.size),
            )));
        }
    }
    let mut body = response;
    let mut buf = vec![0u8; CHUNK];
    let mut reported = Instant::now();
    progress(done, expected.size);
    loop {
        if cancel.is_cancelled() {
            return Err(Attempt::Fatal(Error::Cancelled));
        }
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                file.flush().map_err(io)?;
                return Err(Attempt::Retry(failed(url, format!("the connection dropped after {done} bytes: {e}"))));
            }
        };
        file.write_all(&buf[..n]).map_err(io)?;
        done += n as u64;
        if reported.elapsed() >= REPORT_EVERY {
            progress(done, expected.size);
            reported = Instant::now();
        }
    }
    file.sync_all().map_err(io)?;
    progress(done, expected.size);
    if done < expected.size {
        return Err(Attempt::Retry(failed(url, format!("the connection ended after {done} of {} bytes", expected.size))));
    }
    Ok(())
}

/// The first byte a 206 response holds (`Content-Range: bytes 100-199/200`).
fn starts_at(response: &Response) -> Option<u64> {
    let value = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    value.strip_prefix("bytes ")?.split('-').next()?.trim().parse().ok()
}

/// Check the gathered bytes against the published size and digest, then
/// put the file in place; bytes that do not match are deleted.
fn finish(url: &str, part: &Path, dest: &Path, expected: &Expected) -> Result<()> {
    let size = std::fs::metadata(part).map_err(|e| Error::io(part, e))?.len();
    let digest = digest_of(part, &expected.digest, size)?;
    let (want, kind) = match &expected.digest {
        Digest::Sha256(d) => (d, "SHA-256"),
        Digest::GitBlob(d) => (d, "Git blob id"),
    };
    if size != expected.size || !digest.eq_ignore_ascii_case(want) {
        let _ = std::fs::remove_file(part);
        return Err(failed(
            url,
            format!("the file is not the one published ({size} bytes, {kind} {digest}; expected {} bytes, {want}): deleted, nothing installed", expected.size),
        ));
    }
    std::fs::rename(part, dest).map_err(|e| Error::io(dest, e))
}

/// The digest of the file at `path`, of the kind `like` names.
pub fn digest_of(path: &Path, like: &Digest, size: u64) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u8; CHUNK];
    match like {
        Digest::Sha256(_) => {
            let mut h = sha2::Sha256::new();
            loop {
                let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            Ok(hex(&h.finalize()))
        }
        Digest::GitBlob(_) => {
            let mut h = sha1_smol::Sha1::new();
            h.update(format!("blob {size}\0").as_bytes());
            loop {
                let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            Ok(h.digest().to_string())
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_blob_ids_are_gits() {
        // `printf 'hello\n' | git hash-object --stdin`
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello\n").unwrap();
        let id = digest_of(&p, &Digest::GitBlob(String::new()), 6).unwrap();
        assert_eq!(id, "ce013625030ba8dba906f756967f9e9ca394464a");
        let sha = digest_of(&p, &Digest::Sha256(String::new()), 6).unwrap();
        assert_eq!(sha, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
    }

    #[test]
    fn part_files_sit_beside_their_file() {
        assert_eq!(part_path(Path::new("/m/a.onnx")), Path::new("/m/a.onnx.part"));
    }
}
