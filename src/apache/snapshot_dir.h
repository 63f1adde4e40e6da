// Where a server's children make the files their HTTP/2 snapshots live in (README,
// AudioStreamSnapshotDir): the directive, checked at post_config.
#ifndef AUDIO_STREAM_APACHE_SNAPSHOT_DIR_H
#define AUDIO_STREAM_APACHE_SNAPSHOT_DIR_H

#include "glue.h"

namespace audio_stream::apache {

// AudioStreamSnapshotDir directory|none (server config only).
const char* set_snapshot_dir(cmd_parms* cmd, void* conf, const char* arg) noexcept;

int snapshot_dir_pre_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp) noexcept;
// Checks that the directory is on a tmpfs with huge pages (AS0061 and memory files when it is
// not).
int snapshot_dir_post_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp, server_rec* s) noexcept;

// The directory the children make their snapshot files in, or nullptr (none, or unusable).
const char* snapshot_dir() noexcept;

}  // namespace audio_stream::apache

#endif
