//! Videos for the preview's player, over HTTP on the loopback interface.
//!
//! WebKitGTK's media player reads a custom URI scheme only as a whole (it
//! asks for the first bytes, takes them for the whole file and fails), so
//! videos are served by a small HTTP server on 127.0.0.1 with byte ranges,
//! which GStreamer's HTTP source seeks in. Each run has a random token in
//! every path: other local programs can't read the library through it, and
//! only catalogued videos are served: `/video/ID` a video, `/live/ID` the
//! moment of a Live Photo or motion photo (a byte range of a file).

use std::io::{Read, Seek, SeekFrom};

use photofinder_core::Engine;
use tiny_http::{Header, Request, Response, Server, StatusCode};

/// The server's base URL, `http://127.0.0.1:PORT/TOKEN`.
pub struct MediaServer {
    pub base: String,
}

impl MediaServer {
    pub fn start(engine: Engine) -> std::io::Result<MediaServer> {
        let server = Server::http("127.0.0.1:0").map_err(std::io::Error::other)?;
        let port = server.server_addr().to_ip().map(|a| a.port()).unwrap_or(0);
        let token = random_token()?;
        let base = format!("http://127.0.0.1:{port}/{token}");
        let prefix = format!("/{token}/");
        std::thread::Builder::new().name("media".into()).spawn(move || {
            for request in server.incoming_requests() {
                let engine = engine.clone();
                let prefix = prefix.clone();
                // One thread per request: a player keeps several open while seeking.
                std::thread::spawn(move || answer(request, &engine, &prefix));
            }
        })?;
        Ok(MediaServer { base })
    }
}

fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header")
}

/// What a request asks for: the bytes `start..start + len` of a file.
struct Served {
    path: std::path::PathBuf,
    start: u64,
    len: u64,
    mime: &'static str,
}

fn find(url: &str, engine: &Engine, prefix: &str) -> Option<Served> {
    let (kind, rest) = url.strip_prefix(prefix)?.split_once('/')?;
    let id = rest.split(['?', '#']).next()?.parse::<i64>().ok()?;
    match kind {
        "video" => {
            let video = engine.call(move |lib| lib.photo(id)).ok().flatten().filter(|v| v.duration_ms.is_some())?;
            let len = std::fs::metadata(&video.path).ok()?.len();
            Some(Served { mime: mime(video.format.as_deref()), path: video.path, start: 0, len })
        }
        "live" => {
            let m = engine.call(move |lib| lib.moment(id)).ok().flatten()?;
            Some(Served { path: m.path, start: m.start, len: m.len, mime: m.mime })
        }
        _ => None,
    }
}

fn answer(request: Request, engine: &Engine, prefix: &str) {
    let Some(served) = find(request.url(), engine, prefix) else {
        let _ = request.respond(Response::empty(StatusCode(404)));
        return;
    };
    let range = request.headers().iter().find(|h| h.field.equiv("Range")).map(|h| h.value.as_str().to_string());
    let _ = match open_range(&served, range.as_deref()) {
        Ok((file, start, end, len)) => {
            let status = if range.is_some() { 206 } else { 200 };
            let mut response = Response::new(StatusCode(status), Vec::new(), file, Some((end + 1 - start) as usize), None)
                .with_header(header("Content-Type", served.mime))
                .with_header(header("Accept-Ranges", "bytes"));
            if range.is_some() {
                response.add_header(header("Content-Range", &format!("bytes {start}-{end}/{len}")));
            }
            request.respond(response)
        }
        Err(_) => request.respond(Response::empty(StatusCode(416))),
    };
}

fn mime(format: Option<&str>) -> &'static str {
    match format {
        Some("webm") => "video/webm",
        Some("mkv") => "video/x-matroska",
        Some("mov") => "video/quicktime",
        Some("avi") => "video/x-msvideo",
        _ => "video/mp4",
    }
}

/// The served bytes positioned at the range's start, limited to the range:
/// (reader, start, end inclusive, length), in the served part's own offsets.
fn open_range(served: &Served, range: Option<&str>) -> std::io::Result<(std::io::Take<std::fs::File>, u64, u64, u64)> {
    let mut file = std::fs::File::open(&served.path)?;
    let len = served.len.min(file.metadata()?.len().saturating_sub(served.start));
    let (start, end) = range
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok())))
        .map(|(a, b)| (a, b.unwrap_or(len.saturating_sub(1)).min(len.saturating_sub(1))))
        .unwrap_or((0, len.saturating_sub(1)));
    if len == 0 || start > end {
        return Err(std::io::Error::other("range not satisfiable"));
    }
    file.seek(SeekFrom::Start(served.start + start))?;
    Ok((file.take(end + 1 - start), start, end, len))
}
