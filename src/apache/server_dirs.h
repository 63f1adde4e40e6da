// The directories a server's children share, each named by a directive for the whole server and
// settled at post_config: where they keep the seek indexes (README, AudioStreamSeekIndexDir: made
// for the user the children run as) and where they make their HTTP/2 snapshot files (README,
// AudioStreamSnapshotDir: checked to be a tmpfs with huge pages).
#ifndef AUDIO_STREAM_APACHE_SERVER_DIRS_H
#define AUDIO_STREAM_APACHE_SERVER_DIRS_H

#include "glue.h"

namespace audio_stream::apache {

// AudioStreamSeekIndexDir directory|none, AudioStreamSnapshotDir directory|none (server config
// only).
const char* set_seek_index_dir(cmd_parms* cmd, void* conf, const char* arg) noexcept;
const char* set_snapshot_dir(cmd_parms* cmd, void* conf, const char* arg) noexcept;

int server_dirs_pre_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp) noexcept;
// Makes the index directory (AS0060 and indexes per child when it cannot be made) and checks the
// snapshot directory (AS0061 and memory files when it is not on a tmpfs with huge pages).
int server_dirs_post_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp, server_rec* s) noexcept;

// The directories, or nullptr (none, or they could not be used).
const char* seek_index_dir() noexcept;
const char* snapshot_dir() noexcept;

}  // namespace audio_stream::apache

#endif
