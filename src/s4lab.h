/*
 * s4lab: the core interface (src/).
 *
 * Everything that lasts lives in one SQLite project file (store.c).  The
 * command line (main.c, cmd-*.c) and the TUI (ui/) read and write it only
 * through the functions below.  Prototypes are grouped by the file that
 * defines them.
 *
 * Names used everywhere: a project store is `st`, a tile `t`, a mask
 * `mask` (one byte per pixel, class index or MASK_VOID), a job `job`, an
 * image `img`, a class table `cl`.
 *
 * Errors: a function that can fail on bad input returns -1 (or NULL) and,
 * when `cause` is not NULL, sets *cause to a malloc'd message that names
 * the file or row and what is wrong.  The caller frees it and decides
 * where it is shown.  Out of memory and broken invariants are fatal.
 */
#ifndef S4LAB_H
#define S4LAB_H

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sqlite3;

#define S4LAB_NAME		"s4lab"

/* Exit statuses shared by every command. */
#define EXIT_OK			0	/* everything done */
#define EXIT_FAIL		1	/* some input failed; the rest was done */
#define EXIT_USAGE		2	/* bad command line */

/* ------------------------------------------------------------------ */
/* main.c: the command table. */

/*
 * One entry per subcommand.  `usage` is one line of arguments, `options`
 * one help line per option ("-x, --long ARG\tdescription"), NULL-ended.
 * --help, the man-page test and main's dispatch all read this table.
 */
struct cmd_entry {
	const char	 *name;
	const char	 *usage;
	const char	 *summary;
	const char	**options;
	int		(*exec)(int, char **);
};

void			 cmd_usage(const struct cmd_entry *, FILE *);
/* "s4lab CMD" while a command runs ("s4lab" before): each message of a
 * command on stderr starts with it and ": ". */
extern const char	*cmd_prefix;
const struct cmd_entry	*cmd_find(const char *);
extern const struct cmd_entry *cmd_table[];

/* ------------------------------------------------------------------ */
/* util.c: memory, fatal errors, small string and file helpers. */

void		*xmalloc(size_t);
void		*xcalloc(size_t, size_t);
void		*xreallocarray(void *, size_t, size_t);
char		*xstrdup(const char *);
int		 xasprintf(char **, const char *, ...)
		     __attribute__((format(printf, 2, 3)));
int		 xvasprintf(char **, const char *, va_list);
/* Set *cause (if cause is not NULL) to a formatted message; returns -1. */
int		 set_cause(char **, const char *, ...)
		     __attribute__((format(printf, 2, 3)));
void		 fatal(const char *, ...)
		     __attribute__((noreturn, format(printf, 1, 2)));
void		 fatalx(const char *, ...)
		     __attribute__((noreturn, format(printf, 1, 2)));
/* Called by fatal() before it prints: the TUI restores the terminal. */
void		 fatal_set_hook(void (*)(void));
/* A copy of s with control characters (C0, DEL, C1) replaced by '?'. */
char		*clean_text(const char *);
/* Read a whole file; NUL-terminated for convenience, *len excludes it. */
unsigned char	*read_file(const char *, size_t *, size_t, char **);
/* The user name: --user if given, else the login name, else "unknown". */
const char	*user_name(const char *);
/* Seconds since the epoch with microseconds. */
double		 now_seconds(void);
int64_t		 now_unix(void);
/* "4290.2 megapixels" or, under 0.1 megapixel, "100 pixels"; buf. */
const char	*pixels_text(uint64_t, char *, size_t);
/*
 * A command-line number: decimal digits only (no sign, no blanks), within
 * min..max.  Returns 0 and sets *v, or -1 if s is anything else.
 */
int		 parse_number(const char *, long long, long long, long long *);
/* Lower-case hex SHA-256 of a buffer into out[65]. */
void		 sha256_hex(const void *, size_t, char *);

/* ------------------------------------------------------------------ */
/* log.c: the -v debug log, one file per process, off by default. */

#define LOG_STORE	0x01
#define LOG_IMPORT	0x02
#define LOG_UI		0x04
#define LOG_SIXEL	0x08
#define LOG_TRAIN	0x10
#define LOG_EXPORT	0x20
#define LOG_ALL		0xff

extern int	 log_areas;
/* Open the log: areas is a mask of LOG_*, path NULL for the default. */
void		 log_open(int, const char *);
/* "store,ui" -> LOG_STORE|LOG_UI; unknown names are ignored. */
int		 log_parse_areas(const char *);
void		 log_close(void);
void		 log_write(const char *, const char *, ...)
		     __attribute__((format(printf, 2, 3)));
#define log_debug(area, ...) do {					\
	if (log_areas & (area))						\
		log_write(__func__, __VA_ARGS__);			\
} while (0)

/* ------------------------------------------------------------------ */
/* progress.c: a progress bar with an estimate, on stderr when a tty. */

struct progress {
	const char	*label;
	double		 total;
	double		 done;
	double		 start;
	double		 last_draw;
	int		 tty;
};

void		 progress_begin(struct progress *, const char *, double);
void		 progress_set(struct progress *, double);
void		 progress_end(struct progress *);
/* Format "[#####     ] 42% ETA 1m03s" into buf of width columns. */
void		 progress_format(char *, size_t, int, double, double);

/* ------------------------------------------------------------------ */
/* xdg.c: where files go. */

/* $XDG_DATA_HOME/s4lab (or ~/.local/share/s4lab), created; malloc'd. */
char		*xdg_data_dir(char **);
/* The samples folder: $S4LAB_SAMPLES, else the installed or source one. */
const char	*samples_dir(void);
/* Create a directory and its parents; 0 if it exists. */
int		 mkdir_p(const char *, char **);

/* ------------------------------------------------------------------ */
/* json.c: a strict JSON reader into a tree, and string output. */

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
};

struct json {
	enum json_type	  type;
	char		 *key;		/* member of an object: its key */
	int		  boolean;
	double		  number;
	int		  is_integer;	/* no fraction or exponent, fits */
	int64_t		  integer;
	char		 *string;	/* UTF-8, NUL-terminated, no NUL */
	size_t		  len;
	struct json	**items;	/* array items or object members */
	size_t		  n;
};

/* Parse JSON text; NULL with "line L column C: ..." as cause. */
struct json	*json_parse(const char *, size_t, char **);
void		 json_free(struct json *);
const struct json *json_get(const struct json *, const char *);
const struct json *json_at(const struct json *, size_t);
const char	*json_get_string(const struct json *, const char *);
int		 json_get_int(const struct json *, const char *, int64_t *);
void		 json_write_string(FILE *, const char *);
/* Length of the valid UTF-8 sequence at p (before end), 0 if none. */
size_t		 json_utf8_valid(const unsigned char *, const unsigned char *);

/* ------------------------------------------------------------------ */
/* classes.c: class schemes. */

#define MASK_VOID	255	/* not labelled: ignored by training, metrics */
#define MAX_CLASSES	64
#define MAX_VOID_COLOURS 8

struct classdef {
	char		 name[64];
	uint8_t		 rgb[3];
	char		 key;		/* '\0' if none */
};

struct classes {
	int		 n;
	struct classdef	 c[MAX_CLASSES];
	/* Mask colours that mean "not labelled" on import. */
	int		 nvoid;
	uint8_t		 void_rgb[MAX_VOID_COLOURS][3];
};

/* Fill cl with a named preset ("xbd", "rescuenet"). */
int		 classes_preset(const char *, struct classes *, char **);
/* Read a classes file (text lines or JSON); see s4lab(5). */
int		 classes_read(const char *, struct classes *, char **);
/* Index of the class with this colour, MASK_VOID for a void colour, -1. */
int		 classes_by_rgb(const struct classes *, const uint8_t *);

/* ------------------------------------------------------------------ */
/* store.c: the project file. */

#define TILE_NEW	0
#define TILE_DONE	1
#define TILE_SKIPPED	2

#define SPLIT_TRAIN	0
#define SPLIT_VAL	1

#define STORE_CREATE	0x1	/* create the file if missing */
#define STORE_MUSTNEW	0x2	/* refuse an existing file */
#define STORE_READONLY	0x4	/* only read: never write the file */

/* Queue orders for store_tile_ids. */
#define ORDER_ID		0
#define ORDER_DISAGREEMENT	1
#define ORDER_ENTROPY		2
#define ORDER_RANDOM		3

struct store;

struct tile {
	int64_t		 id;
	int64_t		 source_id;
	char		*source_path;
	int		 x, y;		/* offset in the source scene */
	int		 w, h;		/* pixels of this tile (edge: smaller) */
	int		 split;		/* SPLIT_* */
	int		 state;		/* TILE_* */
	unsigned char	*jpeg;		/* the tile's encoded bytes */
	size_t		 jpeg_len;
	/* Of its label, if any (revision 0: none). */
	int		 revision;
	char		*author;
	int64_t		 mtime;
	/* Of the newest model's prediction, if any (NaN: none). */
	double		 score;
	double		 entropy;
};

struct store	*store_open(const char *, int, char **);
void		 store_close(struct store *);
struct sqlite3	*store_db(struct store *);
const char	*store_path(struct store *);
/* BEGIN IMMEDIATE, waiting out other writers. */
int		 store_begin(struct store *, char **);
/* 1 if the last transaction gave up because the project stayed busy. */
int		 store_busy(struct store *);
int		 store_commit(struct store *, char **);
void		 store_rollback(struct store *);

int		 store_get_classes(struct store *, struct classes *, char **);
int		 store_set_classes(struct store *, const struct classes *,
		     char **);
/* Project settings (tile_size, ...): text values; NULL if unset. */
char		*store_get_setting(struct store *, const char *);
int		 store_set_setting(struct store *, const char *, const char *,
		     char **);
int		 store_tile_size(struct store *);

/* Sources: returns the id, 0 if no source has this hash. */
int64_t		 store_source_by_hash(struct store *, const char *);
int64_t		 store_source_add(struct store *, const char *, int, int,
		     const char *, char **);

/* Tiles: t->id is set by store_tile_add; 0 if identical bytes exist. */
int		 store_tile_add(struct store *, struct tile *, char **);
/* The id of the tile with exactly these bytes; 0 if there is none. */
int64_t		 store_tile_find(struct store *, const void *, size_t);
int		 store_tile_get(struct store *, int64_t, struct tile *, char **);
void		 tile_free(struct tile *);
/* Tile ids in queue order (new first, then skipped, then done). */
int		 store_tile_ids(struct store *, int, int64_t **, size_t *,
		     char **);
int		 store_tile_set_state(struct store *, int64_t, int,
		     const char *, char **);
/* Tiles in a state (TILE_*; -1: all), -1 on error. */
int64_t		 store_tile_count(struct store *, int);

/*
 * Labels: a mask is t->w * t->h bytes.  store_label_get returns 1 and
 * fills mask with MASK_VOID when the tile has no label yet.
 * store_label_put(st, tile, mask, len, author, action, cause) commits
 * a new revision and a history row holding the mask (action: "paint",
 * "fill", "import"...; NULL is "edit") in one transaction, or inside the
 * caller's own store_begin/store_commit.
 */
int		 store_label_get(struct store *, int64_t, uint8_t *, size_t,
		     char **);
int		 store_label_put(struct store *, int64_t, const uint8_t *,
		     size_t, const char *, const char *, char **);
/*
 * store_label_apply(st, tile, before, after, len, author, action, &rev,
 * merged, cause): one expert's change (the pixels where after != before)
 * applied onto the newest stored label in one transaction, so that
 * concurrent experts never overwrite each other's pixels; the new revision
 * and the merged mask (len bytes; merged may be NULL) come back.
 */
int		 store_label_apply(struct store *, int64_t, const uint8_t *,
		     const uint8_t *, size_t, const char *, const char *, int *,
		     uint8_t *, char **);
/*
 * Masks as stored (labels, predictions, history): zlib.  mask_pack
 * mallocs *out; mask_unpack fails unless exactly len bytes come out.
 */
int		 mask_pack(const uint8_t *, size_t, unsigned char **,
		     size_t *);
int		 mask_unpack(const unsigned char *, size_t, uint8_t *, size_t,
		     char **);

/* ------------------------------------------------------------------ */
/* jobs.c: the jobs table, shared by the trainer, the TUI and commands. */

#define JOB_QUEUED	0
#define JOB_RUNNING	1
#define JOB_DONE	2
#define JOB_FAILED	3
#define JOB_CANCELLED	4

/* A running job whose heartbeat is older than this is taken for dead. */
#define JOB_STALE_SECONDS	600

struct job {
	int64_t		 id;
	char		*kind;		/* "train" or "predict" */
	int		 state;		/* JOB_* */
	int64_t		 created, started, finished, heartbeat;
	int		 pid;
	char		*host;
	char		*phase;		/* "load", "train", ...; "" if none */
	double		 progress;	/* 0 .. 1 */
	int		 epoch;
	double		 loss;		/* NaN: none yet */
	double		 eta;		/* seconds left; -1: unknown */
	char		*message;	/* why it failed, or a summary */
	char		*params;	/* a flat JSON object */
	int		 cancel;	/* 1 once cancellation was asked */
	int64_t		 model_id;	/* 0: none */
};

const char	*job_state_name(int);
/* Queue a job; params is a flat JSON object or NULL.  Returns its id. */
int64_t		 job_queue(struct store *, const char *, const char *,
		     char **);
/*
 * Claim the oldest queued job (or job id if it is not 0) in one
 * BEGIN IMMEDIATE transaction: it becomes running with this process's
 * pid and host.  Returns 1 and fills job, 0 if there was none, -1.
 */
int		 job_claim(struct store *, int64_t, struct job *, char **);
/* Progress (phase, epoch, loss, fraction, eta) and heartbeat of a
 * running job; returns 1 if it was cancelled, 0 if not, -1 on error.
 * phase NULL, epoch < 0 and loss NaN keep the stored ones. */
int		 job_progress(struct store *, int64_t, const char *, int,
		     double, double, double, char **);
/* Also call fn (phase, fraction, eta) on each job_progress in this
 * process, for a foreground progress bar; NULL to stop. */
void		 job_set_hook(void (*)(const char *, double, double));
/* Catch SIGINT, SIGTERM and SIGHUP in a process that runs a job in the
 * foreground: its job then stops at the next step and ends cancelled
 * ("interrupted by signal N"), storing nothing. */
void		 job_catch_signals(void);
/* The signal caught, or 0. */
int		 job_interrupted(void);
/* 1 if cancellation of a job was asked (or a signal caught), 0 if not,
 * -1. */
int		 job_cancelled(struct store *, int64_t, char **);
/* End a running job as done (model id, or 0), failed or cancelled. */
int		 job_finish(struct store *, int64_t, int64_t, const char *,
		     char **);
int		 job_fail(struct store *, int64_t, const char *, char **);
int		 job_end_cancelled(struct store *, int64_t, char **);
/* Ask a job to stop: a queued one is cancelled at once, a running one
 * when its trainer sees the flag.  -1 if it has already ended. */
int		 job_cancel(struct store *, int64_t, char **);
/* Mark failed the running jobs whose process is gone from this host or
 * whose heartbeat is older than stale seconds; returns how many. */
int		 job_reap(struct store *, int, char **);
/* 1 if some running job has a live process (or a fresh heartbeat). */
int		 job_live(struct store *, int);
int		 job_get(struct store *, int64_t, struct job *, char **);
/* The newest queued or running job, after reaping dead ones: 1 and
 * filled, 0 if none, -1. */
int		 job_current(struct store *, struct job *, char **);
/* All jobs, newest first; free each with job_clear, then the array. */
int		 job_list(struct store *, struct job **, size_t *, char **);
void		 job_clear(struct job *);
/*
 * A number from the flat JSON params: 1 if found (value set), 0 if
 * absent, -1 if the params are malformed or the value is not a number
 * (true and false read as 1 and 0).
 */
int		 job_param(const struct job *, const char *, double *, char **);

/* ------------------------------------------------------------------ */
/* trainer.c: runs queued jobs. */

/* Reap stale jobs, then run queued jobs until none is left (or one,
 * with once).  Progress goes to the jobs row, messages to f.  Returns
 * how many jobs failed, or -1. */
int		 trainer_run(struct store *, int, FILE *, char **);
/* Run one claimed job in this process (train or predict). */
int		 trainer_run_job(struct store *, struct job *, char **);
/*
 * Make sure a trainer runs: when no live job is running, start `exe
 * trainer --detach PROJECT` (exe NULL: /proc/self/exe).  Returns 1 if it
 * started one, 0 if one was running, -1.
 */
int		 trainer_ensure(struct store *, const char *, char **);
/*
 * The demo's first retrain: when the project has labelled train tiles, no
 * model and no queued or running job, queue a train job with default
 * settings and ensure a trainer (exe as above).  Returns 1 if it queued
 * one, 0 if there was nothing to do, -1.
 */
int		 trainer_first_retrain(struct store *, const char *, char **);
/* Fork, setsid, nice 10, output to PROJECT.trainer.log: 1 in the
 * parent, 0 in the detached child, -1 on error. */
int		 trainer_detach(const char *, char **);

/* ------------------------------------------------------------------ */
/* cmd-train.c */

/* Claim a queued job and run it here (or follow it if another trainer
 * took it), with a progress bar; returns an exit status. */
int		 train_wait(struct store *, int64_t);

/* ------------------------------------------------------------------ */
/* train.c: a train job. */

/* Train a new model from a snapshot of the project, validate it, predict
 * every tile and store all of it in one transaction.  0, or -1 with a
 * cause (and 1 if it was cancelled). */
int		 train_job(struct store *, struct job *, char **);

/* Predict every tile with the newest model and store masks and scores
 * in one transaction.  0, 1 if cancelled, -1. */
int		 predict_job(struct store *, struct job *, char **);

/* ------------------------------------------------------------------ */
/* models.c: model versions and their predictions. */

struct model {
	int64_t		 id;
	int64_t		 created;
	int64_t		 job_id;
	char		*config;	/* JSON */
	char		*metrics;	/* JSON */
};

/* The newest model's id; 0 if there is none (or on error). */
int64_t		 model_newest(struct store *);
/* All models, newest first (without weights). */
int		 model_list(struct store *, struct model **, size_t *,
		     char **);
void		 model_clear(struct model *);
/* The weights blob of a model, malloc'd. */
int		 model_weights(struct store *, int64_t, unsigned char **,
		     size_t *, char **);
/*
 * The newest model's prediction for a tile: mask gets len bytes (the
 * tile's w * h), score and entropy (may be NULL) its scores.  Returns 1
 * if there is one, 0 if not (mask filled with MASK_VOID), -1.
 */
int		 model_prediction(struct store *, int64_t, uint8_t *, size_t,
		     double *, double *, char **);

/* ------------------------------------------------------------------ */
/* rank.c: the order in which tiles are offered for labelling. */

struct rank_entry {
	int64_t		 tile_id;
	int64_t		 source_id;
	int		 state;		/* TILE_* */
	double		 score;		/* by the order's measure; NaN none */
	double		 disagreement;
	double		 entropy;
	int		 rank;		/* 1.. among new tiles; 0 others */
};

/*
 * Every tile in offering order by ORDER_DISAGREEMENT, ORDER_ENTROPY or
 * ORDER_RANDOM (ORDER_ID: by id): new tiles first, highest score first,
 * with scene diversity (a scene's tiles are interleaved with other
 * scenes' when those score nearly as high); then skipped, then done.
 */
int		 rank_queue(struct store *, int, struct rank_entry **,
		     size_t *, char **);
/* The entry of a tile in a ranking, or NULL. */
const struct rank_entry *rank_find(const struct rank_entry *, size_t,
		     int64_t);
/* Parse "disagreement", "entropy", "random", "id"; -1 if unknown. */
int		 rank_order_parse(const char *);

/* ------------------------------------------------------------------ */
/* image.c: JPEG and PNG decoding, JPEG encoding, lossless JPEG crops. */

#define IMAGE_UNKNOWN	0
#define IMAGE_JPEG	1
#define IMAGE_PNG	2

/* Default limit on a picture's pixels, checked from its header. */
#define IMAGE_MAX_PIXELS	100000000ULL

/* 8-bit RGB, row after row, no padding: w * h * 3 bytes. */
struct image {
	int		 w, h;
	uint8_t		*rgb;
};

struct image_rect {
	int		 x, y, w, h;
};

/* What a decoded file was. */
struct image_info {
	int		 format;	/* IMAGE_JPEG, IMAGE_PNG */
	int		 w, h;		/* as shown (orientation applied) */
	int		 stored_w;	/* as stored in the file */
	int		 stored_h;
	int		 orientation;	/* EXIF 1-8; 1 when none */
	int		 gray;		/* one channel in the file */
	int		 cmyk;		/* CMYK or YCCK JPEG */
	int		 mcu_w, mcu_h;	/* JPEG MCU size; 0 for PNG */
};

int		 image_sniff(const void *, size_t);
int		 image_kind_of_name(const char *);
/* Decode (name is for messages and the extension check); see image.c. */
int		 image_decode(const char *, const void *, size_t, uint64_t,
		     struct image *, struct image_info *, char **);
int		 image_read(const char *, uint64_t, struct image *,
		     struct image_info *, char **);
void		 image_free(struct image *);
int		 image_exif_orientation(const uint8_t *, size_t);
void		 image_orient(struct image *, int);
/* Encode a region of an image; *out is malloc'd. */
int		 image_encode_jpeg(const struct image *, int, int, int, int,
		     int, unsigned char **, size_t *, char **);
/* Cut regions on the MCU grid out of a JPEG's bytes, losslessly. */
int		 image_crop_jpeg(const char *, const void *, size_t,
		     const struct image_rect *, int, unsigned char **,
		     size_t *, char **);

/* ------------------------------------------------------------------ */
/* maskio.c: mask PNGs in and out, COCO run lengths. */

/* A mask PNG (colour-coded, index or palette) to class indices. */
uint8_t		*mask_decode(const char *, const void *, size_t,
		     const struct classes *, uint64_t, int *, int *, char **);
uint8_t		*mask_read(const char *, const struct classes *, uint64_t,
		     int *, int *, char **);
/* The same, with a note (malloc'd) when a short palette was read by index. */
uint8_t		*mask_decode_noted(const char *, const void *, size_t,
		     const struct classes *, uint64_t, int *, int *, char **,
		     char **);
uint8_t		*mask_read_noted(const char *, const struct classes *,
		     uint64_t, int *, int *, char **, char **);
/* An 8-bit palette PNG: PLTE[i] is class i's colour, 255 not labelled. */
int		 mask_encode_png(const uint8_t *, int, int,
		     const struct classes *, unsigned char **, size_t *,
		     char **);
int		 mask_write_png(const char *, const uint8_t *, int, int,
		     const struct classes *, char **);
/* Column-major run lengths of one class, as pycocotools counts them. */
size_t		 mask_rle_encode(const uint8_t *, int, int, int, uint32_t **);
int		 mask_rle_decode(const uint32_t *, size_t, int, int, uint8_t *,
		     char **);
/* The counts as pycocotools' compressed string, and back. */
char		*mask_rle_string(const uint32_t *, size_t);
int		 mask_rle_from_string(const char *, uint32_t **, size_t *,
		     char **);

/* ------------------------------------------------------------------ */
/* import.c: scenes cut into tiles, with their masks, into a project. */

struct import_opts {
	uint64_t	 max_pixels;	/* refuse larger pictures */
	const char	*user;		/* author of labels; NULL: login */
	/* Called with (arg, message) for what was imported with a caveat
	 * (a mask's label kept out); NULL: only logged. */
	void		(*warn)(void *, const char *);
	void		*warn_arg;
};

struct import_stats {
	int		 files;		/* imported */
	int		 failed;
	int		 known;		/* identical to a source already in */
	int		 masks;		/* imported with a mask */
	int		 nomask;	/* no mask found under --masks */
	int64_t		 tiles;		/* stored */
	int64_t		 lossless;	/* of which cut without re-encoding */
	int64_t		 duplicate;	/* identical to a tile already in */
	int64_t		 labelled;
};

struct import_item {
	char		*path;
	size_t		 rootlen;	/* of the directory it was found in */
};

struct import_seen;

struct import_list {
	struct import_item *item;
	size_t		 n;
	size_t		 size;
	/* Directories and files already walked (device and inode). */
	struct import_seen *seen;
	/* Symbolic link loops met and not followed: one line each, for
	 * the caller to print; import_list_free frees them. */
	char		**warning;
	size_t		 nwarning;
};

int		 import_grid(int, int, int, struct image_rect **);
int		 import_tile_lossless(const struct image_info *,
		     const struct image_rect *);
int		 import_collect(const char *, const char *,
		     struct import_list *, char **);
void		 import_list_free(struct import_list *);
char		*import_mask_path(const char *, const struct import_item *);
int		 import_file(struct store *, const char *, const char *,
		     const struct classes *, const struct import_opts *,
		     struct import_stats *, char **);

/* ------------------------------------------------------------------ */
/* export.c: the tiles of a project as a Pascal VOC or COCO dataset. */

#define EXPORT_VOC	0
#define EXPORT_COCO	1

struct export_opts {
	int		 format;	/* EXPORT_* */
	int		 all;		/* every tile, not only done ones */
	int		 force;		/* replace a non-empty directory */
	/* Called with (arg, tiles written, tiles to write); may be NULL. */
	void		(*tick)(void *, int64_t, int64_t);
	void		*arg;
	/* When *stop becomes non-zero the export gives up (may be NULL). */
	volatile sig_atomic_t *stop;
};

struct export_stats {
	int64_t		 tiles;		/* written */
	int64_t		 labelled;	/* of which had a label */
	int64_t		 train, val;
	int64_t		 annotations;	/* COCO: one per tile and class */
};

/* The base of a tile's file name from its source path; malloc'd. */
char		*export_base(const char *);
int		 export_dataset(struct store *, const char *,
		     const struct export_opts *, struct export_stats *,
		     char **);

#endif /* S4LAB_H */
