/*
 * store/image.h - OCI image config and manifest: the in-memory model, JSON
 * (jansson) reading and writing, and images in the store.
 *
 * An image in the store is a manifest blob whose config and layers are
 * blobs; index.json names it (store_set_ref). The image ID is the config
 * digest, as Docker shows it.
 *
 * Ownership: every pointer inside oci_config_t / oci_manifest_t is owned by
 * the struct and freed by its _free. strv fields distinguish NULL (absent,
 * JSON null) from an empty vector (JSON []), because Docker does (CMD []).
 * Fields cbuild does not model are kept in `extra` and written back, so a
 * pulled config keeps everything it had.
 */
#ifndef CB_STORE_IMAGE_H
#define CB_STORE_IMAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "store/digest.h"
#include "store/mediatype.h"
#include "store/store.h"

/* Limits for JSON documents read from the store or the network. */
#define IMAGE_JSON_MAX (8u << 20)

typedef struct oci_history {
	char *created;    /* RFC 3339, may be NULL */
	char *created_by; /* "/bin/sh -c #(nop)  CMD [\"sh\"]" */
	char *author;
	char *comment;
	bool empty_layer;
} oci_history_t;

typedef struct oci_config {
	char *architecture; /* "amd64" */
	char *os;           /* "linux" */
	char *variant;
	char *created;
	char *author;
	/* the "config" object */
	char *user;
	char **exposed_ports; /* "4567/tcp", sorted set */
	char **env;           /* "K=V" in order */
	char **entrypoint;
	char **cmd;
	char **volumes; /* sorted set */
	char *working_dir;
	json_t *labels; /* object string -> string, or NULL */
	char *stop_signal;
	char **on_build;
	char **shell;
	json_t *healthcheck; /* Docker's Healthcheck object, or NULL */
	bool args_escaped;
	/* rootfs and history */
	char **diff_ids;
	oci_history_t *history;
	size_t n_history;
	json_t *extra;        /* unknown top-level keys */
	json_t *config_extra; /* unknown keys of "config" */
} oci_config_t;

typedef struct oci_descriptor {
	char *media_type;
	char *digest;
	int64_t size;
	json_t *annotations; /* or NULL */
	json_t *platform;    /* or NULL (index entries) */
	/* An index entry's object as read (NULL for one made here): its key
	 * order and the keys the model does not know, written back by
	 * oci_descriptor_to_json. */
	json_t *as_read;
} oci_descriptor_t;

typedef struct oci_manifest {
	char *media_type; /* MT_OCI_MANIFEST or MT_DOCKER_MANIFEST */
	oci_descriptor_t config;
	oci_descriptor_t *layers;
	size_t n_layers;
	json_t *annotations; /* or NULL */
} oci_manifest_t;

/* ---- config ---- */

/* An empty config for this machine (architecture from uname, os linux). */
oci_config_t *oci_config_new(void);
oci_config_t *oci_config_dup(const oci_config_t *c);
void oci_config_free(oci_config_t *c);
oci_config_t *oci_config_from_json(const char *data, size_t len, cb_error_t *err);
/* Compact JSON (caller frees); same struct -> same bytes. */
char *oci_config_to_json(const oci_config_t *c);

/* Env helpers: value of KEY or NULL (borrowed); set replaces in place. */
const char *oci_config_getenv(const oci_config_t *c, const char *key);
void oci_config_setenv(oci_config_t *c, const char *key, const char *value);

void oci_config_add_history(oci_config_t *c, const char *created, const char *created_by,
			    const char *comment, bool empty_layer);
void oci_config_add_diff_id(oci_config_t *c, const char *diff_id);
void oci_config_set_label(oci_config_t *c, const char *key, const char *value);
/* Insert into a sorted set strv (no duplicates). */
char **oci_strset_add(char **set, const char *s);
/* Whether the sorted set strv holds s (a binary search; NULL: empty). */
bool oci_strset_has(char *const *set, const char *s);

/* ---- descriptors and manifests ---- */

void oci_descriptor_release(oci_descriptor_t *d);
void oci_descriptor_copy(oci_descriptor_t *dst, const oci_descriptor_t *src);
/* A descriptor object: a valid digest (checked), a size >= 0, the rest as
 * found. EBADMSG otherwise (d untouched). */
int oci_descriptor_from_json(json_t *j, oci_descriptor_t *d, cb_error_t *err);
/* A descriptor made here: mediaType, digest, size[, annotations][,
 * platform]. One read from an index (as_read set) is written as read: its
 * keys in their order, the unknown ones kept, a field the model holds
 * unchanged with the value it had (bytes and all); a changed field takes
 * its key's place, a removed one goes, a new one is added at the end. So
 * rewriting an index changes nothing but what the writer changed. */
json_t *oci_descriptor_to_json(const oci_descriptor_t *d);

/* An entry without a valid digest (another algorithm, say), kept as read
 * so that a rewrite writes it back where it was: after `at` valid ones. */
typedef struct oci_index_kept {
	size_t at;
	json_t *entry;
} oci_index_kept_t;

/* An image index (or Docker manifest list) as read: its entries, in
 * order. An entry is kept when its digest is valid (the one thing a
 * consumer cannot do without: gc keeps what it names, load and pull fetch
 * it); a missing or bad size reads as -1. Entries without a valid digest
 * are counted in n_invalid, for readers that refuse them, and kept in
 * invalid[] for writers. Written back (oci_index_to_json) it keeps its key
 * order and unknown keys, as its entries do (oci_descriptor_to_json): an
 * index read and written unchanged is the same bytes as jansson's compact
 * dump of what was read, which is what index.json and the blobs are. */
typedef struct oci_index {
	char *media_type; /* as oci_document_media_type says */
	oci_descriptor_t *manifests;
	size_t n_manifests;
	size_t n_invalid;
	json_t *annotations;       /* or NULL */
	oci_index_kept_t *invalid; /* n_invalid, in order */
	json_t *as_read;           /* the object read ("manifests": null) */
} oci_index_t;

/* EBADMSG when the bytes are not a JSON object with a "manifests" array. */
oci_index_t *oci_index_from_json(const char *data, size_t len, cb_error_t *err);
/* An empty index: OCI's, or a Docker manifest list with docker_list; the
 * document store_open writes as index.json (OCI_INDEX_EMPTY). */
#define OCI_INDEX_EMPTY(mt) "{\"schemaVersion\":2,\"mediaType\":\"" mt "\",\"manifests\":[]}"
oci_index_t *oci_index_new(bool docker_list);
void oci_index_free(oci_index_t *ix);
/* The entry whose platform is this machine's (linux and this machine's
 * architecture), else the first; NULL for an empty index. Borrowed. */
const oci_descriptor_t *oci_index_pick_native(const oci_index_t *ix);
/* An index entry read as oci_index_from_json reads one (as_read set):
 * false (d untouched) when it has no valid digest. */
bool oci_index_entry_from_json(json_t *e, oci_descriptor_t *d);

/* Editing (entries keep their places, as in a JSON array): append takes
 * d's contents (d is zeroed); remove moves entry i into *out, or releases
 * it with out NULL. The kept invalid entries: remove_kept gives entry j's
 * JSON to the caller, append_kept takes one to the end. */
void oci_index_append(oci_index_t *ix, oci_descriptor_t *d);
void oci_index_remove(oci_index_t *ix, size_t i, oci_descriptor_t *out);
json_t *oci_index_remove_kept(oci_index_t *ix, size_t j);
void oci_index_append_kept(oci_index_t *ix, json_t *entry);
/* Whether kept entry j comes after valid entry i in the document. */
static inline bool oci_index_kept_after(const oci_index_t *ix, size_t j, size_t i)
{
	return ix->invalid[j].at > i;
}
/* The index as JSON (a new reference), and as compact text (caller frees). */
json_t *oci_index_to_json_value(const oci_index_t *ix);
char *oci_index_to_json(const oci_index_t *ix);

oci_manifest_t *oci_manifest_new(const char *media_type);
void oci_manifest_free(oci_manifest_t *m);
oci_manifest_t *oci_manifest_from_json(const char *data, size_t len, cb_error_t *err);
char *oci_manifest_to_json(const oci_manifest_t *m);
void oci_manifest_add_layer(oci_manifest_t *m, const char *media_type, const char *digest,
			    int64_t size);

/* ---- images in the store ---- */

/* ---- platforms and indexes ----
 *
 * A tag may name an OCI image index (or a Docker manifest list): one image
 * per platform. Everything that needs one image resolves the index to the
 * child for a platform, as docker and podman do: this machine's by default,
 * or the one a user names with --platform os/arch[/variant].
 */

/* A platform, normalized as containerd does: lower case, aliases folded
 * (x86_64 -> amd64, aarch64 -> arm64, armhf -> arm/v7), arm's variant
 * defaults to v7, and arm64/v8 is arm64. */
typedef struct oci_platform {
	char os[32];
	char arch[32];
	char variant[16];
} oci_platform_t;

/* This machine's platform (linux + uname's architecture). */
void oci_platform_host(oci_platform_t *out);

/* Parse "os/arch[/variant]"; NULL or "" gives oci_platform_host. EINVAL
 * with a message naming the text when it does not parse. */
int oci_platform_parse(const char *s, oci_platform_t *out, cb_error_t *err);

/* How well an image of os/arch/variant (as written in an index or config,
 * any may be NULL) serves `want`: 0 = not at all, higher is better. An
 * exact match scores 3; when no variant is wanted any variant will do (1). */
int oci_platform_score(const oci_platform_t *want, const char *os, const char *arch,
		       const char *variant);

/* "linux/arm64/v8", "linux/amd64" (caller frees); "unknown" for a NULL
 * os or arch. */
char *oci_platform_string(const char *os, const char *arch, const char *variant);

/* "linux/arm64" of a parsed platform (caller frees). */
char *oci_platform_format(const oci_platform_t *p);

/* Same platform (arm64 and arm64/v8 are one). */
bool oci_platform_equal(const oci_platform_t *a, const oci_platform_t *b);

/* A comma-separated list ("linux/amd64,linux/arm64"), each parsed and
 * normalized, duplicates dropped, in the order given (*out: caller frees).
 * EINVAL naming the bad entry. */
int oci_platform_parse_list(const char *s, oci_platform_t **out, size_t *n, cb_error_t *err);

/* Whether this machine runs programs of p without an emulator. */
bool oci_platform_is_native(const oci_platform_t *p);

/* Write p's os, architecture and variant into a config. */
void oci_config_set_platform(oci_config_t *c, const oci_platform_t *p);

/* A config's platform as "os/arch[/variant]" (caller frees). */
char *oci_config_platform(const oci_config_t *c);

/* oci_platform_score of a config's platform (a config without one counts
 * as linux/amd64). */
int oci_config_platform_score(const oci_config_t *c, const oci_platform_t *want);

/* True for MT_OCI_INDEX and MT_DOCKER_LIST. */
bool oci_media_type_is_index(const char *mt);

/* The media type of a manifest or index document: its mediaType, or, when
 * it has none (OCI allows that), MT_OCI_INDEX for a document with a
 * "manifests" array and MT_OCI_MANIFEST otherwise. NULL when the bytes are
 * not a JSON object. The result is a static string. */
const char *oci_document_media_type(const char *data, size_t len);

/* One image manifest listed by an index. */
typedef struct image_child {
	char *digest;
	char *media_type;
	int64_t size;
	char *os, *arch, *variant; /* from the entry's platform; NULL when absent */
	char *platform;            /* oci_platform_string of the three */
	bool present;              /* the manifest blob is in the store */
} image_child_t;

void image_children_free(image_child_t *c, size_t n);

/* The images of the index blob `index_digest`, in index order: entries
 * that are image manifests with a platform. Attestations (platform
 * unknown/unknown, or annotated vnd.docker.reference.type) and nested
 * indexes are left out. The array belongs to the caller
 * (image_children_free). */
int image_index_children(store_t *st, const char *index_digest, image_child_t **out, size_t *n,
			 cb_error_t *err);

/* The image manifest that `digest` stands for on `platform` (NULL: this
 * machine's): digest itself when it names an image manifest, else the best
 * matching child of the index that is in the store (the first of equals).
 * *manifest_digest is set on success (caller frees). ENOENT with the
 * platforms the index holds when none matches, or when the match was not
 * pulled; EINVAL for a platform that does not parse. */
int image_resolve(store_t *st, const char *digest, const char *platform, char **manifest_digest,
		  cb_error_t *err);

/* ---- images in the store ---- */

typedef struct image {
	char *manifest_digest; /* the image manifest (an index's child) */
	int64_t manifest_size;
	oci_manifest_t *manifest;
	char *config_digest; /* the image ID */
	oci_config_t *config;
	char *index_digest; /* the index it was resolved from, else NULL */
} image_t;

void image_free(image_t *img);

/* Load (and verify) the manifest blob and its config. A digest that names
 * an index loads this machine's image of it (image_resolve). */
image_t *image_load(store_t *st, const char *manifest_digest, cb_error_t *err);

/* image_load for a platform ("os/arch[/variant]", NULL: this machine's);
 * the platform only matters when the digest names an index. */
image_t *image_load_platform(store_t *st, const char *digest, const char *platform,
			     cb_error_t *err);

/* Write config + manifest blobs for the given config and layers. Docker
 * schema 2 media types when docker_format. Returns the new image. */
image_t *image_commit(store_t *st, const oci_config_t *config, const oci_descriptor_t *layers,
		      size_t n_layers, bool docker_format, cb_error_t *err);
/* The same, the two blobs added to batch b (NULL: committed on their own):
 * they are in blobs/ once the caller publishes b. */
image_t *image_commit_in(store_t *st, store_blob_batch_t *b, const oci_config_t *config,
			 const oci_descriptor_t *layers, size_t n_layers, bool docker_format,
			 cb_error_t *err);

/* Sum of the layer blobs' sizes plus config (what `images` shows as SIZE
 * is the unpacked size when known: see image_unpacked_size). */
int64_t image_blob_size(const image_t *img);

/* What `images` shows as SIZE: the uncompressed size of the layers, as
 * docker does. Read from the blobs without decompressing them: a gzip
 * member's trailer (ISIZE) and a zstd frame header's content size; a layer
 * whose size cannot be read that way counts with its blob size. */
int64_t image_unpacked_size(store_t *st, const image_t *img);
/* The same for one layer (`history`'s SIZE). */
int64_t image_layer_unpacked_size(store_t *st, const oci_descriptor_t *layer);

/* Current time (or SOURCE_DATE_EPOCH / the given epoch when >= 0) as an
 * RFC 3339 UTC string. */
char *oci_time_now(int64_t epoch);

/* Parse RFC 3339 into seconds since the epoch; -1 when it does not parse. */
int64_t oci_time_parse(const char *s);

#endif
