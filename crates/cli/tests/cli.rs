//! The `photofinder` binary end to end: real models, real photos, real files.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::Env;

#[test]
fn add_a_folder_search_by_file_and_by_library_photo() {
    let env = Env::new();
    let photos = env.photos();
    let added = env.json(&["folders", "add", photos.to_str().unwrap()]);
    assert_eq!(added["index"]["added"], 4);
    assert_eq!(added["index"]["embedded"], 4);

    // A darker, smaller copy of the cat, from outside the library.
    let query = env.tmp.path().join("query.jpg");
    let cat = image::open(photos.join("cat.jpg")).unwrap();
    cat.resize(200, 200, image::imageops::FilterType::Triangle).brighten(-40).save(&query).unwrap();
    let results = env.json(&["search", query.to_str().unwrap(), "-k", "3"]);
    let hits = results["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 3);
    assert!(hits[0]["path"].as_str().unwrap().ends_with("cat.jpg"));
    assert_eq!(hits[0]["is_query"], false);
    assert!(hits[0]["similarity"].as_f64().unwrap() > hits[1]["similarity"].as_f64().unwrap());

    let similar = env.json(&["similar", photos.join("coffee.jpg").to_str().unwrap(), "-k", "2"]);
    assert_eq!(similar["hits"][0]["is_query"], true);
    assert!(similar["hits"][0]["path"].as_str().unwrap().ends_with("coffee.jpg"));

    let typed = env.json(&["search", query.to_str().unwrap(), "--type", "png"]);
    assert_eq!(typed["hits"].as_array().unwrap().len(), 0, "no PNGs in this library");

    let status = env.json(&["status"]);
    assert_eq!(status["indexed"], 4);
    assert_eq!(status["store_points"], 4);

    let (code, out, _) = env.run(&["search", query.to_str().unwrap(), "-k", "1"]);
    assert_eq!(code, 0);
    assert!(out.contains("cat.jpg") && out.contains("similarity"), "{out}");
}

#[test]
fn text_labels_more_like_these_and_the_map() {
    let env = Env::new();
    let photos = env.photos();
    env.json(&["folders", "add", photos.to_str().unwrap()]);

    let text = env.json(&["text", "cats", "-k", "2"]);
    assert_eq!(text["method"], "labels");
    assert!(text["hits"][0]["path"].as_str().unwrap().ends_with("cat.jpg"));
    let (code, out, _) = env.run(&["text", "espresso"]);
    assert_eq!(code, 0);
    assert!(out.contains("by label search") && out.contains("coffee.jpg"), "{out}");
    let none = env.json(&["text", "zebra"]);
    assert_eq!(none["hits"].as_array().unwrap().len(), 0);

    let labels = env.json(&["labels", photos.join("coffee.jpg").to_str().unwrap()]);
    assert_eq!(labels[0]["label"], "espresso");

    let cat = photos.join("cat.jpg");
    let flipped = env.tmp.path().join("flipped.jpg");
    image::open(&cat).unwrap().fliph().save(&flipped).unwrap();
    let many = env.json(&[
        "similar",
        cat.to_str().unwrap(),
        flipped.to_str().unwrap(),
        "--not",
        photos.join("rocket.jpg").to_str().unwrap(),
        "-k",
        "4",
    ]);
    let paths: Vec<&str> = many["hits"].as_array().unwrap().iter().map(|h| h["path"].as_str().unwrap()).collect();
    assert!(paths[0].ends_with("cat.jpg"), "{paths:?}");
    assert!(!paths.iter().any(|p| p.ends_with("rocket.jpg")), "{paths:?}");

    // Marks from an earlier answer: the bad result is left out, the good one moves up.
    let rank = |r: &Value, name: &str| {
        r["hits"].as_array().unwrap().iter().position(|h| h["path"].as_str().unwrap().ends_with(name)).unwrap_or(99)
    };
    let plain = env.json(&["search", cat.to_str().unwrap(), "-k", "4"]);
    let marked = env.json(&[
        "search",
        cat.to_str().unwrap(),
        "-k",
        "4",
        "--good",
        photos.join("rocket.jpg").to_str().unwrap(),
        "--bad",
        photos.join("coffee.jpg").to_str().unwrap(),
    ]);
    assert_eq!(rank(&marked, "coffee.jpg"), 99);
    assert!(rank(&marked, "rocket.jpg") <= rank(&plain, "rocket.jpg"), "{marked}");
    let text_marked = env.json(&["text", "cats", "-k", "3", "--bad", cat.to_str().unwrap()]);
    assert_eq!(rank(&text_marked, "cat.jpg"), 99, "{text_marked}");
    // Photo + text needs CLIP vectors, and says so.
    let (code, _, err) = env.run(&["search", cat.to_str().unwrap(), "--and-text", "at night"]);
    assert_ne!(code, 0);
    assert!(err.contains("clip-vit-b32"), "{err}");

    let (code, csv, _) = env.run(&["explore", "--csv"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,x,y,cluster,path");
    assert_eq!(lines.len(), 5);
    let map = env.json(&["explore"]);
    assert_eq!(map["points"].as_array().unwrap().len(), 4);
    assert!(!map["clusters"].as_array().unwrap().is_empty());
}

#[test]
fn duplicates_are_listed_and_copies_moved_to_the_trash() {
    let env = Env::new();
    let photos = env.photos();
    std::fs::copy(photos.join("cat.jpg"), photos.join("cat copy.jpg")).unwrap();
    let cat = image::open(photos.join("cat.jpg")).unwrap();
    cat.resize(cat.width() / 2, cat.height() / 2, image::imageops::FilterType::Triangle)
        .into_rgb8()
        .save(photos.join("cat small.jpg"))
        .unwrap();
    env.json(&["folders", "add", photos.to_str().unwrap()]);

    let found = env.json(&["duplicates"]);
    let groups = found["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{found}");
    let names: Vec<&str> = groups[0]["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(names.len(), 3);
    assert_eq!(names[2], "cat small.jpg", "fewest pixels last: {names:?}");
    assert_eq!(groups[0]["photos"][1]["exact"], true);

    // --trash-copies keeps the first of each group; the trash is the test's own.
    let data = env.tmp.path().join("data");
    let out = env.cmd().args(["duplicates", "--trash-copies"]).env("XDG_DATA_HOME", &data).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 group, 2 copies") && text.matches("moved to the trash").count() == 2, "{text}");
    assert!(photos.join("cat.jpg").exists());
    let kept = |n: &str| photos.join(n).exists() as u8 + data.join("Trash/files").join(n).exists() as u8 * 2;
    assert_eq!(kept("cat copy.jpg") + kept("cat small.jpg"), 4, "both copies now only in the trash");
    assert_eq!(env.json(&["duplicates"])["groups"].as_array().unwrap().len(), 0);

    let out = env.cmd().args(["trash", photos.join("coffee.jpg").to_str().unwrap()]).env("XDG_DATA_HOME", &data).output().unwrap();
    assert!(out.status.success());
    assert!(data.join("Trash/files/coffee.jpg").exists() && !photos.join("coffee.jpg").exists());
    let (code, _, err) = env.run(&["trash", "/nonexistent/photo.jpg"]);
    assert_ne!(code, 0);
    assert!(err.contains("photo.jpg"), "{err}");
}

#[test]
fn videos_are_searched_by_their_moments() {
    let env = Env::new();
    let photos = env.photos();
    // Rocket for 3 s, then the cat for 3 s, made here from the test photos.
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-loop", "1", "-framerate", "10", "-t", "3", "-i"])
        .arg(photos.join("rocket.jpg"))
        .args(["-loop", "1", "-framerate", "10", "-t", "3", "-i"])
        .arg(photos.join("cat.jpg"))
        .args(["-filter_complex", "[0:v]scale=320:240,setsar=1[a];[1:v]scale=320:240,setsar=1[b];[a][b]concat=n=2:v=1,format=yuv420p[v]"])
        .args(["-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast"])
        .arg(photos.join("clip.mkv"))
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    std::fs::rename(photos.join("cat.jpg"), env.tmp.path().join("cat.jpg")).unwrap();
    env.json(&["folders", "add", photos.to_str().unwrap()]);

    let cat = env.tmp.path().join("cat.jpg");
    let found = env.json(&["search", cat.to_str().unwrap(), "-k", "1"]);
    let hit = &found["hits"][0];
    assert!(hit["path"].as_str().unwrap().ends_with("clip.mkv"), "{found}");
    let at = hit["frame"]["at_ms"].as_i64().unwrap();
    assert!((3000..6000).contains(&at), "the cat is on screen 3-6 s: {at}");
    let (code, out, _) = env.run(&["search", cat.to_str().unwrap(), "-k", "1"]);
    assert_eq!(code, 0);
    assert!(out.contains("clip.mkv @ 0:0"), "{out}");

    let settings = env.json(&["videos", "--interval", "1"]);
    assert_eq!(settings["requeued"], 1);
    assert_eq!(settings["options"]["interval_secs"], 1.0);
    env.json(&["index"]);
    let (code, _, err) = env.run(&["videos", "--interval", "0"]);
    assert_ne!(code, 0);
    assert!(err.contains("interval"), "{err}");
}

#[test]
fn the_library_moves_to_milvus_and_back_with_one_command() {
    let env = Env::new();
    let photos = env.photos();
    env.json(&["folders", "add", photos.to_str().unwrap()]);
    let before = env.json(&["similar", photos.join("cat.jpg").to_str().unwrap(), "-k", "4"]);

    let uri = std::env::var("MILVUS_URI").expect("MILVUS_URI: run scripts/test, which starts Milvus");
    let prefix = format!("cli{}", std::process::id());
    let store = env.json(&["store", "use", "milvus", "--uri", &uri, "--prefix", &prefix, "--token", "root:Milvus", "--timeout", "60"]);
    assert_eq!(store["store"]["kind"], "milvus");
    assert_eq!(store["store"]["token"], "***", "secrets are not printed");
    assert_eq!(store["points"], 4);
    let after = env.json(&["similar", photos.join("cat.jpg").to_str().unwrap(), "-k", "4"]);
    assert_eq!(after["store"], "milvus");
    let ids = |v: &Value| v["hits"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(ids(&before), ids(&after));

    let (code, _, err) = env.run(&["store", "use", "milvus", "--uri", "http://127.0.0.1:9", "--timeout", "2"]);
    assert_ne!(code, 0);
    assert!(err.contains("127.0.0.1:9"), "{err}");
    assert_eq!(env.json(&["store"])["store"]["kind"], "milvus", "a failed switch keeps the working store");

    assert_eq!(env.json(&["store", "use", "embedded"])["points"], 4);
}

#[test]
fn models_lists_installed_and_missing_models() {
    let env = Env::new();
    let models = env.json(&["models"]);
    let list = models["models"].as_array().unwrap();
    let names: Vec<&str> = list.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["efficientnet-lite0", "efficientnet-lite0-int8", "resnet50", "clip-vit-b32", "clip-vit-b32-laion2b", "siglip2-vit-b16", "xlm-roberta-vit-b32"]
    );
    assert_eq!(models["active"], "efficientnet-lite0-int8", "a new library uses the int8 build where it is installed");
    assert_eq!(list[0]["installed"], true);
    assert_eq!(list[1]["installed"], true, "scripts/test installs the int8 model");
    assert_eq!(list[5]["hub"]["repo"], "immich-app/ViT-B-16-SigLIP2__webli");
    assert_eq!(list[5]["context"], 64);
    assert_eq!(list[6]["multilingual"], true);

    let empty = tempfile::tempdir().unwrap();
    let out = env.cmd().args(["models"]).env("PHOTOFINDER_MODELS_DIR", empty.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("missing: install with models/install.sh"), "{text}");
    assert!(text.contains("not installed: photofinder models install siglip2-vit-b16 (about 1500 MB)"), "{text}");
}

/// The download itself is tested against a hub on 127.0.0.1 in the core
/// (tests/model_download.rs); here, what the command line says and keeps.
#[test]
fn models_install_says_when_no_hub_answers_and_keeps_a_mirror() {
    let env = Env::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mirror = format!("http://127.0.0.1:{port}");
    let (code, out, _) = env.run(&["models", "mirror", &mirror]);
    assert_eq!(code, 0);
    assert!(out.contains(&format!("models download from {mirror}")), "{out}");
    // Into an empty models folder: the shared one stays as it is.
    let models = tempfile::tempdir().unwrap();
    let out = env.cmd().args(["models", "install", "clip-vit-b32-laion2b"]).env("PHOTOFINDER_MODELS_DIR", models.path()).output().unwrap();
    let (code, err) = (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned());
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("cannot reach 127.0.0.1") && err.contains("PHOTOFINDER_MODEL_MIRROR"), "{err}");
    // The environment variable wins over the setting.
    let out = env.cmd().args(["models", "mirror"]).env("PHOTOFINDER_MODEL_MIRROR", "http://127.0.0.1:9/").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("models download from http://127.0.0.1:9\n"), "{out:?}");
    let (code, out, _) = env.run(&["models", "mirror", "--clear"]);
    assert_eq!(code, 0);
    assert!(out.contains("models download from https://huggingface.co"), "{out}");
    let (code, _, err) = env.run(&["models", "mirror", "ftp://example"]);
    assert_ne!(code, 0);
    assert!(err.contains("http:// or https://"), "{err}");
    let (code, _, err) = env.run(&["models", "install", "resnet50"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("install.sh"), "{err}");
}

#[test]
fn errors_are_clear_and_have_distinct_exit_codes() {
    let env = Env::new();
    let photos = env.photos();
    env.json(&["folders", "add", photos.to_str().unwrap()]);

    let (code, _, err) = env.run(&["similar", "/nowhere/x.jpg"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("not in the library"), "{err}");

    let notes = env.tmp.path().join("notes.jpg");
    std::fs::write(&notes, "not a photo").unwrap();
    let (code, _, err) = env.run(&["search", notes.to_str().unwrap()]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("not an image"), "{err}");

    let (code, _, err) = env.run(&["search", "/nowhere/x.jpg"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("/nowhere/x.jpg"), "{err}");

    let empty = tempfile::tempdir().unwrap();
    let query = photos.join("cat.jpg");
    let moved = env.tmp.path().join("elsewhere.jpg");
    image::open(&query).unwrap().fliph().save(&moved).unwrap();
    let out = env
        .cmd()
        .args(["search", moved.to_str().unwrap()])
        .env("PHOTOFINDER_MODELS_DIR", empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("install"), "{:?}", out);

    let (code, _, err) = env.run(&["--model", "vgg16", "status"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("unknown model"), "{err}");

    let (code, _, err) = env.run(&["search", "x.jpg", "--after", "last tuesday"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn watch_indexes_new_files_and_stops_cleanly_on_ctrl_c() {
    let env = Env::new();
    let photos = env.photos();
    env.json(&["folders", "add", "--no-index", photos.to_str().unwrap()]);
    let mut child = env.cmd().args(["watch", "--quiet"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();

    let wait_for = |what: &str, done: &dyn Fn(&Value) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let status = env.json(&["status"]);
            if done(&status) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}: {status}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    wait_for("catch-up index", &|s| s["indexed"] == 4);
    image::open(photos.join("cat.jpg")).unwrap().rotate90().save(photos.join("cat-rotated.png")).unwrap();
    wait_for("new file indexed", &|s| s["indexed"] == 5);

    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "watch did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "watch exits 0 after Ctrl-C: {status:?}");
}
