//! Two of the three ways files reach the web view (videos: `media.rs`).
//!
//! `thumb://localhost/<hash>` serves the thumbnail cache, where names are
//! content hashes: the 64 hex digits are the whole path, so no request can
//! climb out of the cache. `photo://localhost/<id>` serves a photo of the
//! catalog by its id (only files in watched folders have ids), or a video's
//! keyframe at full size.

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
    let library_dir = ctx.app_handle().state::<Shell>().library_dir.clone();
    std::thread::spawn(move || {
        let found = photofinder_core::thumbs::locate(&library_dir, &name).and_then(|path| std::fs::read(path).ok());
        responder.respond(match found {
            // The map draws thumbnails with WebGL, which uploads a picture
            // from another origin (this scheme's) only when it was fetched
            // with CORS. Thumbnails are all this scheme serves.
            Some(bytes) => {
                let mut response = reply(StatusCode::OK, "image/jpeg", bytes);
                response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, header::HeaderValue::from_static("*"));
                response
            }
            None => not_found("no such thumbnail"),
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
