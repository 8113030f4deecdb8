//! `photofinder bench` and `photofinder eval`: the benchmark suite and the
//! retrieval-quality evaluation, from photofinder-bench.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use photofinder_bench::{Options, SECTIONS};
use photofinder_core::ModelDir;

#[derive(Args)]
pub struct BenchArgs {
    /// A labelled set of small photos (a folder with labels.csv).
    #[arg(long, env = "PHOTOFINDER_BENCH_SET", required_unless_present = "serve_idle")]
    bench_set: Option<PathBuf>,
    /// Real photos to make 12 MP camera JPEGs from.
    #[arg(long, env = "PHOTOFINDER_TEST_PHOTOS", required_unless_present = "serve_idle")]
    photos: Option<PathBuf>,
    /// Where generated data and the Python reference are kept between runs.
    #[arg(long)]
    work: Option<PathBuf>,
    /// Fewer photos and repetitions (a quick look, not figures to record).
    #[arg(long)]
    quick: bool,
    /// Only these sections (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(SECTIONS))]
    only: Vec<String>,
    /// A Milvus server for the store benchmarks (left out when not given).
    #[arg(long, env = "MILVUS_URI")]
    milvus_uri: Option<String>,
    /// Write the tables into this Markdown file (BENCHMARKS.md).
    #[arg(long)]
    write: Option<PathBuf>,
    /// (Internal) run the app's engine idle on this library, for the memory figures.
    #[arg(long, hide = true, requires = "idle_model")]
    serve_idle: Option<PathBuf>,
    #[arg(long, hide = true)]
    idle_model: Option<String>,
}

pub fn bench(args: BenchArgs, models: ModelDir) -> Result<()> {
    if let (Some(library), Some(model)) = (&args.serve_idle, &args.idle_model) {
        return photofinder_bench::process::serve_idle(library, &models, model);
    }
    let work = args
        .work
        .unwrap_or_else(photofinder_bench::default_work);
    let options = Options {
        models,
        bench_set: args.bench_set.context("--bench-set is required")?,
        camera_sources: args.photos.context("--photos is required")?,
        work,
        quick: args.quick,
        only: args.only,
        milvus_uri: args.milvus_uri,
        cli: std::env::current_exe().context("cannot find the photofinder binary")?,
    };
    let write = |section: &photofinder_bench::Section| -> Result<()> {
        crate::output::say!("{}", section.markdown());
        if let Some(path) = &args.write {
            let existing = std::fs::read_to_string(path).ok();
            let document = photofinder_bench::document(&options, std::slice::from_ref(section), existing.as_deref());
            std::fs::write(path, document).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote the {} section into {}", section.name, path.display());
        }
        Ok(())
    };
    photofinder_bench::run(&options, write)?;
    Ok(())
}

#[derive(Args)]
pub struct EvalArgs {
    /// A folder of photos with a labels.csv of path,label (paths relative to the folder).
    #[arg(env = "PHOTOFINDER_BENCH_SET")]
    folder: PathBuf,
    /// Where the evaluation libraries are kept between runs.
    #[arg(long)]
    work: Option<PathBuf>,
}

/// Evaluates `model`, or every installed model with real weights.
pub fn eval(args: EvalArgs, models: ModelDir, model: Option<String>) -> Result<()> {
    let work = args.work.unwrap_or_else(photofinder_bench::default_work);
    std::fs::create_dir_all(&work)?;
    let set = photofinder_bench::data::LabelledSet::open(&args.folder)?;
    for table in photofinder_bench::quality_tables(&models, &set, &model.into_iter().collect::<Vec<_>>(), &work)? {
        crate::output::say!("{}", table.markdown());
    }
    Ok(())
}
