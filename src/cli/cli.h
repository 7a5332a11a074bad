/* Shared pieces of the `toonify` command: subcommands, model discovery, process memory. */
#ifndef TOON_CLI_H
#define TOON_CLI_H

#include <stddef.h>

#include "toonify/toonify.h"

int toon_cli_convert(int argc, char **argv);
int toon_cli_info(int argc, char **argv);
int toon_cli_identify(int argc, char **argv);

/* Reads a whole file, or stdin for "-" (at most 1 GiB); *data is malloc'ed. */
enum toon_status toon_cli_read_file(const char *path, uint8_t **data, size_t *len,
                                    struct toon_err *err);

/* Finds a generator model: the --model value (file or directory), $TOONIFY_MODEL_DIR, ./models,
 * the models beside the executable, ../shared/models of a checkout.  Writes the file path and
 * returns 1, or returns 0 and writes the places it looked into `tried`. */
int toon_cli_find_model(const char *flag, char *path, size_t path_len, char *tried,
                        size_t tried_len);

/* Process memory from /proc/self/status, bytes (0 if unknown). */
size_t toon_cli_rss(void);
size_t toon_cli_peak_rss(void);

/* "64M", "1.5G", "300000000" -> bytes; 0 on error. */
size_t toon_cli_parse_bytes(const char *s);
/* Formats bytes as "58.3 MB". */
const char *toon_cli_mb(size_t bytes, char *buf, size_t len);

void toon_cli_log_to_stderr(int verbose);

#endif
