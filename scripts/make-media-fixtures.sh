#!/bin/sh
# Makes the small encoded media files in test/fixtures/media, and the default clips whip-client
# sends (assets/, shipped in the package), with Debian's ffmpeg (libvpx, libaom, libx264, libopus).
# Deterministic: one thread, bitexact muxing, synthetic sources (testsrc, sine).
# Usage: sh scripts/make-media-fixtures.sh   (rewrites the files; commit them if they changed)
set -eu
out="$(cd "$(dirname "$0")/.." && pwd)/test/fixtures/media"
mkdir -p "$out"

# 20 frames of 320x240 at 30 fps: keyframes at frames 0 and 10, so each file has two GOPs; realtime
# settings (no lag, no alt-ref or B frames) because that is what WebRTC senders produce.
video="-f lavfi -i testsrc=size=320x240:rate=30:duration=0.6667 -frames:v 20 -pix_fmt yuv420p -an"
common="-hide_banner -loglevel error -y"
enc="-threads 1 -fflags +bitexact -flags:v +bitexact -map_metadata -1"

# shellcheck disable=SC2086
ffmpeg $common $video $enc -c:v libvpx -deadline realtime -cpu-used 8 -lag-in-frames 0 -auto-alt-ref 0 \
  -g 10 -b:v 300k -f ivf "$out/vp8.ivf"
# shellcheck disable=SC2086
ffmpeg $common $video $enc -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -lag-in-frames 0 -auto-alt-ref 0 \
  -row-mt 0 -g 10 -b:v 300k -f ivf "$out/vp9.ivf"
# shellcheck disable=SC2086
ffmpeg $common $video $enc -c:v libaom-av1 -usage realtime -cpu-used 8 -lag-in-frames 0 -row-mt 0 \
  -tiles 1x1 -g 10 -b:v 300k -f ivf "$out/av1.ivf"
# Constrained baseline with two slices per picture, so access units hold several NAL units
# (SPS, PPS, SEI, slices) and the big IDR slices need FU-A at common MTUs.
# shellcheck disable=SC2086
ffmpeg $common $video $enc -c:v libx264 -profile:v baseline -preset veryfast -tune zerolatency -bf 0 \
  -g 10 -keyint_min 10 -sc_threshold 0 -slices 2 -b:v 300k -f h264 "$out/h264.h264"
# 1 s of a 440 Hz tone, mono 48 kHz, 20 ms Opus frames; page_duration makes one packet per page.
ffmpeg $common -f lavfi -i sine=frequency=440:sample_rate=48000:duration=1 \
  -threads 1 -fflags +bitexact -flags:a +bitexact -map_metadata -1 -c:a libopus -b:a 32k -frame_duration 20 \
  -application audio -page_duration 20000 -f ogg "$out/opus.ogg"

ls -l "$out"

# The whip-client defaults (docs/echo.md): 1 s of VP8 at 30 fps with a keyframe every 15 frames, so
# a receiver that missed the first one decodes within half a second, and 1 s of a 440 Hz Opus tone.
# Both loop; about 22 KB together.
assets="$(cd "$(dirname "$0")/.." && pwd)/assets"
mkdir -p "$assets"
# shellcheck disable=SC2086
ffmpeg $common -f lavfi -i testsrc=size=320x240:rate=30:duration=1 -frames:v 30 -pix_fmt yuv420p -an $enc \
  -c:v libvpx -deadline realtime -cpu-used 8 -lag-in-frames 0 -auto-alt-ref 0 -g 15 -b:v 150k -f ivf "$assets/default-vp8.ivf"
ffmpeg $common -f lavfi -i sine=frequency=440:sample_rate=48000:duration=1 \
  -threads 1 -fflags +bitexact -flags:a +bitexact -map_metadata -1 -c:a libopus -b:a 24k -frame_duration 20 \
  -application audio -page_duration 20000 -f ogg "$assets/default-opus.ogg"
ls -l "$assets"
