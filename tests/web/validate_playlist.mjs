#!/usr/bin/env node
// Parses an HLS playlist with hls-parser in strict mode (any spec violation it checks is an
// error, not a console line) and prints one JSON summary on stdout:
//   media:  {type:"media", version, target_duration, media_sequence, playlist_type, endlist,
//            independent_segments, map_uri, total_duration,
//            segments:[{uri, resolved, duration, byterange?, map_uri?, discontinuity?}]}
//   master: {type:"master", version, independent_segments,
//            variants:[{uri, resolved, bandwidth, average_bandwidth, codecs}],
//            audio:[{group_id, name, uri, resolved, default}]}
// Exit 0 on success; 1 with {"error": "..."} when fetching or parsing failed; 2 on usage.
//
//   node validate_playlist.mjs http://127.0.0.1:PORT/dir/episode.mp3/index.m3u8
//   node validate_playlist.mjs path/to/index.m3u8
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import HLS from 'hls-parser';

const FETCH_TIMEOUT_MS = 30000;

async function load(source) {
  if (/^https?:\/\//.test(source)) {
    const resp = await fetch(source, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!resp.ok) throw new Error(`GET ${source}: HTTP ${resp.status}`);
    return { text: await resp.text(), base: source, contentType: resp.headers.get('content-type') };
  }
  return { text: fs.readFileSync(source, 'utf8'), base: pathToFileURL(path.resolve(source)).href, contentType: null };
}

// A URI as a client resolves it: against the playlist's own URL (RFC 8216 §4.1).
const resolve = (uri, base) => (uri === undefined ? undefined : new URL(uri, base).href);

function summarizeMedia(p, base) {
  const segments = p.segments.map((s) => {
    const out = { uri: s.uri, resolved: resolve(s.uri, base), duration: s.duration };
    if (s.byterange) out.byterange = s.byterange;
    if (s.map) out.map_uri = s.map.uri;
    if (s.discontinuity) out.discontinuity = true;
    return out;
  });
  const map = p.segments.find((s) => s.map);
  return {
    type: 'media', version: p.version ?? null, target_duration: p.targetDuration,
    media_sequence: p.mediaSequenceBase ?? 0, playlist_type: p.playlistType ?? null,
    endlist: p.endlist, independent_segments: p.independentSegments,
    map_uri: map ? map.map.uri : null, map_resolved: map ? resolve(map.map.uri, base) : null,
    total_duration: segments.reduce((t, s) => t + s.duration, 0), segments,
  };
}

function summarizeMaster(p, base) {
  const audio = [];
  for (const v of p.variants) {
    for (const r of v.audio || []) {
      if (!audio.some((a) => a.group_id === r.groupId && a.name === r.name)) {
        audio.push({ group_id: r.groupId, name: r.name, uri: r.uri ?? null,
          resolved: resolve(r.uri, base) ?? null, default: r.isDefault });
      }
    }
  }
  return {
    type: 'master', version: p.version ?? null, independent_segments: p.independentSegments,
    variants: p.variants.map((v) => ({ uri: v.uri, resolved: resolve(v.uri, base), bandwidth: v.bandwidth,
      average_bandwidth: v.averageBandwidth ?? null, codecs: v.codecs ?? null })),
    audio,
  };
}

async function main() {
  const source = process.argv[2];
  if (!source || process.argv.length > 3) {
    process.stderr.write('usage: node validate_playlist.mjs URL-or-FILE\n');
    process.exit(2);
  }
  try {
    HLS.setOptions({ strictMode: true, silent: true });
    const { text, base, contentType } = await load(source);
    const p = HLS.parse(text);
    const summary = p.isMasterPlaylist ? summarizeMaster(p, base) : summarizeMedia(p, base);
    summary.content_type = contentType;
    process.stdout.write(JSON.stringify(summary) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: String(e && e.message || e) }) + '\n');
    process.exit(1);
  }
}

main();
