//! The three ways files reach the web view.
//!
//! `thumb://localhost/<hash>` serves the thumbnail cache, where names are
//! content hashes: the 64 hex digits are the whole path, so no request can
//! climb out of the cache. `photo://localhost/<id>` serves a photo of the
//! catalog by its id (only files in watched folders have ids), or a video's
//! keyframe at full size. `video://localhost/<id>` serves a catalogued video,
//! with byte ranges, which media elements need to seek.

use std::path::PathBuf;

use photofinder_core::preprocess;
use tauri::http::{header, Request, Response, StatusCode};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};

use crate::Shell;

fn reply(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        // Content-addressed or id-addressed: either way stable for the session.
        .header(header::CACHE_CONTROL, "max-age=3600")
        .body(body)
        .expect("static headers are valid")
}

fn not_found(why: &str) -> Response<Vec<u8>> {
    reply(StatusCode::NOT_FOUND, "text/plain", why.as_bytes().to_vec())
}

fn last_segment(request: &Request<Vec<u8>>) -> String {
    request.uri().path().trim_start_matches('/').to_string()
}

pub fn thumbnail<R: Runtime>(ctx: UriSchemeContext<'_, R>, request: Request<Vec<u8>>, responder: UriSchemeResponder) {
    let name = last_segment(&request);
    let dir = ctx.app_handle().state::<Shell>().library_dir.join("thumbs");
    std::thread::spawn(move || {
        if name.len() != 64 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
            return responder.respond(not_found("not a thumbnail name"));
        }
        let path = dir.join(&name[..2]).join(format!("{name}.jpg"));
        responder.respond(match std::fs::read(&path) {
            Ok(bytes) => reply(StatusCode::OK, "image/jpeg", bytes),
            Err(_) => not_found("no such thumbnail"),
        })
    });
}

pub fn photo<R: Runtime>(ctx: UriSchemeContext<'_, R>, request: Request<Vec<u8>>, responder: UriSchemeResponder) {
    let Ok(id) = last_segment(&request).parse::<i64>() else {
        return responder.respond(not_found("not a photo id"));
    };
    let engine = ctx.app_handle().state::<Shell>().engine.clone();
    std::thread::spawn(move || {
        if photofinder_core::catalog::is_frame_id(id) {
            let frame = engine.call(move |lib| lib.frame_image(id, PREVIEW_SIDE));
            return responder.respond(match frame {
                Ok(pixels) => reply(StatusCode::OK, "image/jpeg", preprocess::thumbnail_jpeg(&pixels, PREVIEW_SIDE)),
                Err(e) => not_found(&e.to_string()),
            });
        }
        let photo = engine.call(move |lib| lib.photo(id));
        let Ok(Some(photo)) = photo else {
            return responder.respond(not_found("no such photo"));
        };
        let path: PathBuf = photo.path;
        // HEIC, AVIF and TIFF are not shown by every web view: those are
        // served as a JPEG made from them.
        let viewable = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| preprocess::viewable(bytes, PREVIEW_SIDE).map_err(|e| e.to_string()));
        responder.respond(match viewable {
            Ok((bytes, mime)) => reply(StatusCode::OK, mime, bytes),
            Err(e) => not_found(&e),
        })
    });
}

/// Longer side of the preview made for formats the web view can't show.
const PREVIEW_SIDE: u32 = 2560;

pub fn video<R: Runtime>(ctx: UriSchemeContext<'_, R>, request: Request<Vec<u8>>, responder: UriSchemeResponder) {
    let Ok(id) = last_segment(&request).parse::<i64>() else {
        return responder.respond(not_found("not a video id"));
    };
    let range = request.headers().get(header::RANGE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let engine = ctx.app_handle().state::<Shell>().engine.clone();
    std::thread::spawn(move || {
        let video = engine.call(move |lib| lib.photo(id));
        let Ok(Some(video)) = video.map(|v| v.filter(|v| v.duration_ms.is_some())) else {
            return responder.respond(not_found("no such video"));
        };
        responder.respond(match serve_range(&video.path, range.as_deref(), video_mime(video.format.as_deref())) {
            Ok(r) => r,
            Err(e) => not_found(&e.to_string()),
        })
    });
}

fn video_mime(format: Option<&str>) -> &'static str {
    match format {
        Some("webm") => "video/webm",
        Some("mkv") => "video/x-matroska",
        Some("mov") => "video/quicktime",
        Some("avi") => "video/x-msvideo",
        _ => "video/mp4",
    }
}

/// Longest piece of a video sent per request: players ask for more as they go.
const MAX_CHUNK: u64 = 4 << 20;

/// `bytes=START-[END]` of the file (a first piece when no range is asked).
fn serve_range(path: &std::path::Path, range: Option<&str>, mime: &str) -> std::io::Result<Response<Vec<u8>>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let (start, end) = range
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok())))
        .map(|(a, b)| (a, b.unwrap_or(len.saturating_sub(1))))
        .unwrap_or((0, len.saturating_sub(1)));
    if len == 0 || start >= len {
        return Ok(Response::builder()
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(header::CONTENT_RANGE, format!("bytes */{len}"))
            .body(Vec::new())
            .expect("static headers are valid"));
    }
    let end = end.min(len - 1).min(start + MAX_CHUNK - 1);
    let mut body = vec![0; (end - start + 1) as usize];
    file.seek(SeekFrom::Start(start))?;
    file.read_exact(&mut body)?;
    Ok(Response::builder()
        .status(StatusCode::PARTIAL_CONTENT)
        .header(header::CONTENT_TYPE, mime)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"))
        .body(body)
        .expect("static headers are valid"))
}
