//! The map (the neighbour-preserving layout and the PCA one) and its
//! clusters over real EfficientNet-Lite0 vectors of photos and their
//! near-duplicates.

mod common;

use std::collections::{HashMap, HashSet};

use common::*;
use photofinder_core::explore::{ExploreOptions, Layout};
use photofinder_core::Cancel;

fn group_of(path: &std::path::Path) -> String {
    let name = path.file_stem().unwrap().to_string_lossy();
    name.split("__").next().unwrap().to_string()
}

#[test]
fn the_map_separates_near_duplicate_groups_and_clusters_them_together() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    let groups = ["cat", "coffee", "rocket", "china"];
    write_with_variants(&photos, Some(&groups));
    let mut lib = library(tmp.path());
    lib.add_folder(&photos).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();

    for layout in [Layout::Umap, Layout::Pca] {
        check_map(&mut lib, &photos, &groups, &ExploreOptions { layout, ..Default::default() });
    }
}

fn check_map(lib: &mut photofinder_core::Library, photos: &std::path::Path, groups: &[&str], options: &ExploreOptions) {
    let map = lib.explore(options).unwrap();
    assert_eq!(map.layout, options.layout);
    assert!(map.refitted);
    assert_eq!(map.points.len(), groups.len() * 7);

    // On the 2-D map every photo is nearer its own group's centre than any other's.
    let mut centres: HashMap<String, (f32, f32, f32)> = HashMap::new();
    for p in &map.points {
        let c = centres.entry(group_of(&p.path)).or_default();
        *c = (c.0 + p.x, c.1 + p.y, c.2 + 1.0);
    }
    for p in &map.points {
        let own = group_of(&p.path);
        let nearest = centres
            .iter()
            .map(|(g, (x, y, n))| (g, (p.x - x / n).powi(2) + (p.y - y / n).powi(2)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap()
            .0;
        assert_eq!(nearest, &own, "{} sits nearer another group", p.path.display());
    }

    // Each photo shares its cluster with its variants, and groups do not share.
    let mut cluster_of: HashMap<String, HashSet<Option<usize>>> = HashMap::new();
    for p in &map.points {
        cluster_of.entry(group_of(&p.path)).or_default().insert(p.cluster);
    }
    for (g, clusters) in &cluster_of {
        assert_eq!(clusters.len(), 1, "group {g} split over clusters {clusters:?}");
    }
    let distinct: HashSet<Option<usize>> = cluster_of.values().flatten().copied().collect();
    assert!(!distinct.contains(&None), "no group is left between islands: {cluster_of:?}");
    assert_eq!(distinct.len(), groups.len(), "one cluster per group: {cluster_of:?}");
    // Clusters are named by their photos' labels.
    let cat_cluster = *cluster_of["cat"].iter().next().unwrap();
    let name = &map.clusters[cat_cluster.unwrap()].name;
    assert!(name.to_lowercase().contains("cat") || name.contains("tabby"), "{name}");

    // The cached fit serves the next call, with the same map.
    let again = lib.explore(options).unwrap();
    assert!(!again.refitted);
    let coords = |m: &photofinder_core::explore::Map| m.points.iter().map(|p| (p.id, p.x, p.y, p.cluster, p.part)).collect::<Vec<_>>();
    assert_eq!(coords(&map), coords(&again));
    // A new photo is placed with the cached fit, in its group's cluster.
    let extra = photos.join("cat__extra.jpg");
    save_jpeg(&image::imageops::brighten(&image::imageops::flip_vertical(&photo("chelsea.png")), 15), &extra, 80);
    lib.index(&ignore, &Cancel::new()).unwrap();
    let grown = lib.explore(options).unwrap();
    assert!(!grown.refitted, "one photo more does not need a refit");
    let placed = grown.points.iter().find(|p| p.path.ends_with("cat__extra.jpg")).unwrap();
    assert_eq!(placed.cluster, cat_cluster);
    // The others have not moved.
    let before: HashMap<i64, (f32, f32)> = again.points.iter().map(|p| (p.id, (p.x, p.y))).collect();
    assert!(grown.points.iter().filter(|p| p.id != placed.id).all(|p| before[&p.id] == (p.x, p.y)));
    std::fs::remove_file(&extra).unwrap();
    lib.index(&ignore, &Cancel::new()).unwrap();

    // A refit from scratch is deterministic too.
    std::fs::remove_dir_all(lib.dir.join("explore")).unwrap();
    let refit = lib.explore(options).unwrap();
    assert!(refit.refitted);
    assert_eq!(coords(&map), coords(&refit));
}
