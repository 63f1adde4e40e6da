// Where a server's children keep the seek indexes they share (README, AudioStreamSeekIndexDir):
// the directive, and the directory made at post_config for the user the children run as.
#ifndef AUDIO_STREAM_APACHE_INDEX_DIR_H
#define AUDIO_STREAM_APACHE_INDEX_DIR_H

#include "glue.h"

namespace audio_stream::apache {

// AudioStreamSeekIndexDir directory|none (server config only).
const char* set_seek_index_dir(cmd_parms* cmd, void* conf, const char* arg) noexcept;

int index_dir_pre_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp) noexcept;
// Makes the directory (AS0060 and indexes per child when it cannot be made).
int index_dir_post_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp, server_rec* s) noexcept;

// The directory the children share, or nullptr (none, or it could not be made).
const char* seek_index_dir() noexcept;

}  // namespace audio_stream::apache

#endif
