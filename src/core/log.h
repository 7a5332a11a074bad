/*
 * Logging through a replaceable callback.  Library code never prints: it calls toon_log(), and
 * the program that embeds the library decides where messages go (the CLI sends them to stderr
 * when --verbose is given; the service to its log).
 */
#ifndef TOON_CORE_LOG_H
#define TOON_CORE_LOG_H

#include "toonify/toonify.h"

void toon_log(enum toon_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
