/*
 * `toonify [options] INPUT... -o OUTPUT`: convert photos to cartoons.
 *
 * Memory is decided before work starts: the plan (the process as it stands after loading
 * the model, plus everything the conversion will allocate) is compared with --max-memory,
 * and a conversion that would not fit is refused with the figures and the largest size that
 * would fit.  Outputs are written to a temporary file and renamed when complete, so a failed
 * conversion never leaves a truncated image behind; no output replaces an input (outputs.c).
 * A closed output pipe is a write error (exit 3), not a death by SIGPIPE (main.c ignores it).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/path.h"
#include "core/procmem.h"
#include "cli/cli.h"

/* Memory the process comes to hold that neither the peak so far nor the conversion's plan
 * covers: the pages of library code first touched during the run, thread stacks. */
#define LIBRARY_MARGIN ((size_t)2 << 20)

static const char usage[] =
    "usage: toonify [options] INPUT... -o OUTPUT\n"
    "       toonify info [--model|--models PATH]\n"
    "       toonify identify FILE...\n"
    "       toonify models list|verify [--model|--models DIR]\n"
    "       toonify faces IMAGE [--model|--models DIR] [--debug-overlay FILE]\n"
    "       toonify serve [--port N] [--model|--models DIR] ...   (toonify serve --help)\n"
    "       toonify worker --redis URL [--model|--models DIR] ... (toonify worker --help)\n"
    "\n"
    "Turns photos of people into cartoons.  INPUT and OUTPUT may be '-' (stdin/stdout).\n"
    "With several inputs, OUTPUT is a directory: each input gives OUTPUT/NAME.EXT, and inputs\n"
    "with the same NAME give NAME-2.EXT, NAME-3.EXT, ... in the order given.  An existing\n"
    "output is replaced, unless it is one of the inputs (that input is refused, exit 2).\n"
    "\n"
    "options:\n"
    "  -o, --output PATH      output file or directory (required)\n"
    "  -s, --size N           longest side of the output in pixels (default 1024, in official\n"
    "                         mode the input's size; 0 = as input)\n"
    "      --strength F       0..1, blend of cartoon and photo; 1 = pure cartoon (default 0.7)\n"
    "  -f, --format FMT       png, jpg or webp (default: from OUTPUT's extension, png if it has\n"
    "                         none; another extension is refused)\n"
    "  -q, --quality N        JPEG/WebP quality 1..100 (default 92 / 90)\n"
    "  -m, --model PATH       model file, style directory or directory of styles (default:\n"
    "                         $TOONIFY_MODEL_DIR, ./models, the models beside the program);\n"
    "      --models PATH      the same option (the service's spelling)\n"
    "      --style NAME       a style of the model directory (see toonify models list)\n"
    "      --mode MODE        hd (default when face models are found: faces cartoonised with\n"
    "                         the head model at the output size), official (the reference\n"
    "                         DCT-Net pipeline, 720 px working size, quirks and all) or plain\n"
    "                         (the generator over the whole photo, streamed; no faces)\n"
    "      --no-faces         skip the face pass\n"
    "      --face-models DIR  face detector and landmark models (default: beside the style)\n"
    "  -t, --threads N        threads (default: the CPUs this process may use)\n"
    "      --precision P      fp32 (exact, default) or fast (bf16 where the CPU has it)\n"
    "      --max-memory SIZE  refuse a conversion whose planned peak exceeds SIZE (e.g. 64M)\n"
    "      --band N           output rows per streaming step (default 16)\n"
    "      --whole-image      run the network on whole tensors (reference; memory ~ area)\n"
    "  -v, --verbose          print sizes, planned and measured memory, timings\n"
    "      --no-progress      no progress bar (it is shown only when stderr is a terminal)\n"
    "  -h, --help             this text\n"
    "      --version          the version\n"
    "\n"
    "exit codes: 0 ok, 2 bad arguments (an output that is an input too), 3 file not found,\n"
    "unreadable or unwritable (a closed output pipe too), 4 corrupt or\n"
    "unsupported image, 5 over the memory limit or too large, 6 out of memory, 7 bad model,\n"
    "9 internal error.  With several inputs, the first failure's code (the others still run).\n";

struct opts {
    const char *output, *model, *format, *style, *face_models;
    int mode_given; /* --mode: o.cp.mode is the user's, else it follows the models found */
    int no_faces, size_given;
    struct toon_convert_params cp;
    size_t max_memory;
    int threads, verbose, progress;
};

/* The extension of a path's base name ("" for none; a leading dot does not start one). */
static const char *ext_of(const char *path)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot + 1 : "";
}

/* Reads a whole file (or stdin) into memory: compressed images are small next to the pixels. */
enum toon_status toon_cli_read_file(const char *path, uint8_t **data, size_t *len,
                                    struct toon_err *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) return toon_err_set(err, TOON_STATUS_NOT_FOUND, "%s", strerror(errno));
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) break;
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
        if (n == cap) {
            if (cap >= ((size_t)1 << 30)) {
                free(buf);
                if (f != stdin) fclose(f);
                return toon_err_set(err, TOON_STATUS_TOO_LARGE, "file is larger than 1 GiB");
            }
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    if (f != stdin) fclose(f);
    if (!buf) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory reading the file");
    if (bad) {
        free(buf);
        return toon_err_set(err, TOON_STATUS_IO, "read error");
    }
    *data = buf;
    *len = n;
    return TOON_STATUS_OK;
}

/* Where the encoder's bytes go; the first failed write's errno says why (ENOSPC, EPIPE). */
struct sink {
    FILE *f;
    int errnum;
};

static enum toon_status write_sink(void *ctx, const void *data, size_t n)
{
    struct sink *s = ctx;
    errno = 0;
    if (fwrite(data, 1, n, s->f) == n) return TOON_STATUS_OK;
    if (!s->errnum) s->errnum = errno ? errno : EIO;
    return TOON_STATUS_IO;
}

/* Flushes stdout or closes the file; a failed write is reported as one (a full disk, a closed
 * pipe), whatever the encoder made of it, unless the conversion failed for another reason. */
static enum toon_status close_sink(struct sink *s, const char *out, enum toon_status st,
                                   struct toon_err *err)
{
    int to_stdout = s->f == stdout;
    errno = 0;
    if ((to_stdout ? fflush(s->f) : fclose(s->f)) != 0 && !s->errnum)
        s->errnum = errno ? errno : EIO;
    if (!s->errnum || (st != TOON_STATUS_OK && st != TOON_STATUS_IO)) return st;
    if (to_stdout)
        return toon_err_set(err, TOON_STATUS_IO, "cannot write to stdout: %s", strerror(s->errnum));
    return toon_err_set(err, TOON_STATUS_IO, "cannot write %s: %s", out, strerror(s->errnum));
}

struct progress {
    const char *name;
    int last;
};

static void show_progress(void *ctx, double f)
{
    struct progress *p = ctx;
    int pct = (int)(f * 100);
    if (pct == p->last) return;
    p->last = pct;
    char bar[31];
    int fill = (int)(f * 30);
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '=' : ' ';
    bar[30] = 0;
    fprintf(stderr, "\r%-24.24s [%s] %3d%%", p->name, bar, pct);
    if (pct >= 100) fprintf(stderr, "\n");
}

/* Probes the image and plans its conversion; refuses it, with the figures and the largest size
 * that would fit, when the plan exceeds --max-memory. */
static enum toon_status plan_one(const struct toon_model *m, const struct opts *o,
                                 const uint8_t *data, size_t len, const char *in,
                                 const struct toon_convert_params *cp, size_t *planned,
                                 struct toon_err *err)
{
    char b1[32], b2[32];
    struct toon_image_info info;
    enum toon_status st = toon_probe(data, len, &info, err);
    if (st != TOON_STATUS_OK) return st;
    int ow, oh;
    size_t need;
    st = toon_convert_plan(m, &info, cp, &ow, &oh, &need, err);
    if (st != TOON_STATUS_OK) return st;
    size_t fixed = toon_proc_peak_rss() + LIBRARY_MARGIN;
    *planned = fixed + need;
    if (o->verbose)
        fprintf(stderr, "toonify: %s: %dx%d -> %dx%d %s, planned peak %s\n", in, info.w, info.h, ow,
                oh, toon_format_ext(cp->format), toon_cli_mb(*planned, b1, sizeof b1));
    if (!o->max_memory || *planned <= o->max_memory) return TOON_STATUS_OK;
    int upto = cp->size > 0 ? cp->size : (info.w > info.h ? info.w : info.h);
    int fit = toon_convert_largest_size(m, &info, cp, upto, o->max_memory, fixed, 0);
    st = toon_err_set(
        err, TOON_STATUS_OVER_BUDGET, "at %d px this image needs %s, the limit is %s; %s",
        ow > oh ? ow : oh, toon_cli_mb(*planned, b1, sizeof b1),
        toon_cli_mb(o->max_memory, b2, sizeof b2), fit > 0 ? "" : "no output size fits");
    if (fit > 0) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, "--size %d would fit", fit);
    }
    return st;
}

/* Converts into a temporary file beside `out` (or stdout for "-") and renames it to `out` when
 * complete; a failed conversion removes it. */
static enum toon_status write_one(const struct toon_model *m, const struct opts *o,
                                  struct toon_convert_params *cp, const uint8_t *data, size_t len,
                                  const char *in, const char *out, struct toon_convert_report *rep,
                                  struct toon_err *err)
{
    char tmp[4400] = "";
    struct sink s = {stdout, 0};
    if (strcmp(out, "-") != 0) {
        snprintf(tmp, sizeof tmp, "%.4200s.part-%d", out, (int)getpid());
        if (!(s.f = fopen(tmp, "wb")))
            return toon_err_set(err, TOON_STATUS_IO, "cannot write %s: %s", tmp, strerror(errno));
    }
    struct progress pr = {in, -1};
    if (o->progress) {
        cp->progress = show_progress;
        cp->progress_ctx = &pr;
    }
    enum toon_status st = toon_convert(m, data, len, cp, write_sink, &s, rep, err);
    st = close_sink(&s, out, st, err);
    if (st == TOON_STATUS_OK && tmp[0] && rename(tmp, out) != 0)
        st = toon_err_set(err, TOON_STATUS_IO, "cannot rename %s to %s: %s", tmp, out,
                          strerror(errno));
    if (st != TOON_STATUS_OK && tmp[0]) remove(tmp);
    return st;
}

static enum toon_status convert_one(const struct toon_model *m, const struct opts *o,
                                    const char *in, const char *out, struct toon_err *err)
{
    uint8_t *data = NULL;
    size_t len = 0, planned = 0;
    enum toon_status st = toon_cli_read_file(in, &data, &len, err);
    if (st != TOON_STATUS_OK) return st;
    struct toon_convert_params cp = o->cp;
    struct toon_convert_report rep;
    st = plan_one(m, o, data, len, in, &cp, &planned, err);
    if (st == TOON_STATUS_OK) st = write_one(m, o, &cp, data, len, in, out, &rep, err);
    if (st == TOON_STATUS_OK && o->verbose) {
        fprintf(stderr, "memory: planned=%zu measured=%zu\n", planned, toon_proc_peak_rss());
        fprintf(stderr, "time: total=%.3f decode=%.3f network=%.3f encode=%.3f\n",
                rep.seconds_total, rep.seconds_decode, rep.seconds_network, rep.seconds_encode);
    }
    free(data);
    return st;
}

/* Converts every input into its output (outputs.c); returns the first failure's exit code. */
static int convert_all(const struct toon_model *m, const struct opts *o, char **inputs, int n_in,
                       int to_dir)
{
    struct toon_cli_outputs outs;
    struct toon_err err;
    enum toon_status st = toon_cli_outputs_plan(&outs, inputs, n_in, o->output, to_dir,
                                                toon_format_ext(o->cp.format), &err);
    if (st != TOON_STATUS_OK) {
        fprintf(stderr, "toonify: %s\n", err.msg);
        return toon_status_exit_code(st);
    }
    int rc = 0;
    for (int i = 0; i < n_in; i++) {
        st = toon_cli_outputs_check(&outs, i, inputs, &err);
        if (st == TOON_STATUS_OK) st = convert_one(m, o, inputs[i], outs.path[i], &err);
        if (st != TOON_STATUS_OK) {
            fprintf(stderr, "toonify: %s: %s\n", inputs[i], err.msg);
            if (!rc) rc = toon_status_exit_code(st);
        } else if (o->verbose) {
            fprintf(stderr, "toonify: wrote %s\n", outs.path[i]);
        }
    }
    toon_cli_outputs_free(&outs);
    return rc;
}

/* Checks OUTPUT and decides the format from --format or OUTPUT's extension (png when it has
 * none); creates the output directory.  Returns 0, or the exit code after a message. */
static int check_output(struct opts *o, int n_in, int *to_dir)
{
    if (!o->output[0]) {
        fprintf(stderr, "toonify: the output path (-o) is empty\n");
        return 2;
    }
    *to_dir = n_in > 1 || toon_is_dir(o->output) || o->output[strlen(o->output) - 1] == '/';
    if (*to_dir && strcmp(o->output, "-") == 0) {
        fprintf(stderr, "toonify: several inputs need an output directory, not '-'\n");
        return 2;
    }
    const char *ext = *to_dir ? "" : ext_of(o->output), *fmt_name = o->format ? o->format : ext;
    o->cp.format = *fmt_name ? toon_format_from_name(fmt_name) : TOON_FORMAT_PNG;
    if (o->cp.format == TOON_FORMAT_UNKNOWN && o->format) {
        fprintf(stderr, "toonify: unknown format '%s' (png, jpg or webp)\n", o->format);
        return 2;
    }
    if (o->cp.format == TOON_FORMAT_UNKNOWN) {
        fprintf(stderr,
                "toonify: no encoder for '.%s' (%s): the output formats are png, jpg (jpeg) "
                "and webp; name the output so or pass --format\n",
                ext, o->output);
        return 2;
    }
    if (strcmp(o->output, "-") == 0 && isatty(1)) {
        fprintf(stderr, "toonify: not writing an image to a terminal\n");
        return 2;
    }
    if (*to_dir && !toon_is_dir(o->output) && mkdir(o->output, 0777) != 0) {
        fprintf(stderr, "toonify: cannot create directory %s: %s\n", o->output, strerror(errno));
        return 3;
    }
    return 0;
}

static int bad_value(const char *opt, const char *val)
{
    fprintf(stderr, "toonify: invalid value '%s' for --%s\n", val, opt);
    return 2;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

enum {
    OPT_STRENGTH = 256,
    OPT_PRECISION,
    OPT_MAXMEM,
    OPT_BAND,
    OPT_WHOLE,
    OPT_NOPROGRESS,
    OPT_VERSION,
    OPT_STYLE,
    OPT_MODE,
    OPT_NOFACES,
    OPT_FACEMODELS
};

static const struct option longopts[] = {
    {"output", required_argument, 0, 'o'},
    {"size", required_argument, 0, 's'},
    {"strength", required_argument, 0, OPT_STRENGTH},
    {"format", required_argument, 0, 'f'},
    {"quality", required_argument, 0, 'q'},
    {"model", required_argument, 0, 'm'},
    {"models", required_argument, 0, 'm'},
    {"threads", required_argument, 0, 't'},
    {"precision", required_argument, 0, OPT_PRECISION},
    {"max-memory", required_argument, 0, OPT_MAXMEM},
    {"band", required_argument, 0, OPT_BAND},
    {"whole-image", no_argument, 0, OPT_WHOLE},
    {"verbose", no_argument, 0, 'v'},
    {"no-progress", no_argument, 0, OPT_NOPROGRESS},
    {"help", no_argument, 0, 'h'},
    {"version", no_argument, 0, OPT_VERSION},
    {"style", required_argument, 0, OPT_STYLE},
    {"mode", required_argument, 0, OPT_MODE},
    {"no-faces", no_argument, 0, OPT_NOFACES},
    {"face-models", required_argument, 0, OPT_FACEMODELS},
    {0, 0, 0, 0},
};

/* One option into *o: -1 to go on, else the exit code. */
static int take_option(struct opts *o, int c)
{
    char *end;
    switch (c) {
    case 'o':
        o->output = optarg;
        return -1;
    case 's':
        if (!parse_int(optarg, 0, 65536, &o->cp.size)) return bad_value("size", optarg);
        o->size_given = 1;
        return -1;
    case OPT_STRENGTH:
        o->cp.strength = strtof(optarg, &end);
        if (end == optarg || *end || !(o->cp.strength >= 0 && o->cp.strength <= 1))
            return bad_value("strength (0..1)", optarg);
        return -1;
    case 'f':
        o->format = optarg;
        return -1;
    case 'q':
        return parse_int(optarg, 1, 100, &o->cp.quality) ? -1 : bad_value("quality", optarg);
    case 'm':
        o->model = optarg;
        return -1;
    case 't':
        return parse_int(optarg, 1, 1024, &o->threads) ? -1 : bad_value("threads", optarg);
    case OPT_PRECISION:
        return toon_precision_from_name(optarg, &o->cp.gen.precision)
                   ? -1
                   : bad_value("precision (fp32 or fast)", optarg);
    case OPT_MAXMEM:
        o->max_memory = toon_cli_parse_bytes(optarg);
        return o->max_memory ? -1 : bad_value("max-memory", optarg);
    case OPT_BAND:
        return parse_int(optarg, 1, 4096, &o->cp.gen.band_rows) ? -1 : bad_value("band", optarg);
    case OPT_WHOLE:
        o->cp.gen.whole_image = 1;
        return -1;
    case OPT_STYLE:
        o->style = optarg;
        return -1;
    case OPT_FACEMODELS:
        o->face_models = optarg;
        return -1;
    case OPT_NOFACES:
        o->no_faces = 1;
        return -1;
    case OPT_MODE:
        if (!toon_mode_from_name(optarg, &o->cp.mode))
            return bad_value("mode (hd, official or plain)", optarg);
        o->mode_given = 1;
        return -1;
    case 'v':
        o->verbose = 1;
        return -1;
    case OPT_NOPROGRESS:
        o->progress = 0;
        return -1;
    case 'h':
        fputs(usage, stdout);
        return 0;
    case OPT_VERSION:
        printf("toonify %s\n", TOONIFY_VERSION);
        return 0;
    default:
        fputs(usage, stderr);
        return 2;
    }
}

/* Finds and loads the models the options name (or the default ones): -1 to go on, else the
 * exit code.  On success the caller frees *m, *head and found->faces. */
static int load_models(struct opts *o, struct toon_cli_models *found, struct toon_model **m,
                       struct toon_model **head)
{
    char msg[2048];
    int want_faces = !o->no_faces && !(o->mode_given && o->cp.mode == TOON_MODE_PLAIN);
    if (!toon_cli_resolve_models(o->model, o->style, o->face_models, want_faces, found, msg,
                                 sizeof msg)) {
        if (o->style || o->face_models)
            fprintf(stderr, "toonify: %s\n", msg);
        else
            fprintf(stderr,
                    "toonify: no generator model found (looked in: %s).\n"
                    "Run tools/setup.sh, pass --model PATH, or set TOONIFY_MODEL_DIR.\n",
                    msg);
        return 7;
    }
    struct toon_err err;
    enum toon_status st = toon_model_load(found->bg, m, &err);
    if (st == TOON_STATUS_OK && strcmp(found->head, found->bg) != 0)
        st = toon_model_load(found->head, head, &err);
    if (st != TOON_STATUS_OK) {
        fprintf(stderr, "toonify: %s\n", err.msg);
        toon_model_free(*m);
        toon_face_models_free(found->faces);
        return toon_status_exit_code(st);
    }
    return -1;
}

int toon_cli_convert(int argc, char **argv)
{
    struct opts o;
    memset(&o, 0, sizeof o);
    o.cp = toon_convert_default_params();
    o.progress = isatty(2);
    int c, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:s:f:q:m:t:vh", longopts, NULL)) != -1)
        if ((rc = take_option(&o, c)) >= 0) return rc;
    int n_in = argc - optind;
    char **inputs = argv + optind;
    if (n_in < 1 || !o.output) {
        fprintf(stderr, "toonify: %s\n%s", n_in < 1 ? "no input given" : "no output given (-o)",
                usage);
        return 2;
    }
    int to_dir = 0;
    if ((rc = check_output(&o, n_in, &to_dir))) return rc;

    toon_cli_log_to_stderr(o.verbose);
    toon_set_threads(o.threads);
    struct toon_cli_models found;
    struct toon_model *m = NULL, *head = NULL;
    if ((rc = load_models(&o, &found, &m, &head)) >= 0) return rc;
    o.cp.head_model = head;
    o.cp.face_models = found.faces;
    o.cp.alpha_path = found.alpha[0] ? found.alpha : NULL;
    if (!o.mode_given) o.cp.mode = found.faces ? TOON_MODE_HD : TOON_MODE_PLAIN;
    if (o.verbose)
        fprintf(stderr, "toonify: style %s: %s (%s), %s mode, faces %s, %d threads, %s\n",
                found.style, found.bg, toon_model_description(m), toon_mode_name(o.cp.mode),
                found.faces ? "on" : "off", toon_get_threads(),
                toon_precision_name(o.cp.gen.precision));

    /* The reference pipeline gives back the input's size: so does official mode unless asked. */
    if (o.cp.mode == TOON_MODE_OFFICIAL && !o.size_given) o.cp.size = 0;
    rc = convert_all(m, &o, inputs, n_in, to_dir);
    toon_model_free(m);
    toon_model_free(head);
    toon_face_models_free(found.faces);
    return rc;
}
