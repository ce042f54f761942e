/*
 * upload: a multipart/form-data publish form with a file (see upload.h).
 * libmicrohttpd's post processor cuts the body into fields; text fields
 * are gathered into the form object, the file's bytes go to the
 * attachment writer as they come.
 */
#include "web/upload.h"

#include <limits.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/payload_json.h"
#include "store/attach.h"
#include "util/err.h"
#include "util/text.h"
#include "web/web.h"

#define FILE_FIELD "attachment"

struct upload {
    struct MHD_PostProcessor *pp;
    const char *home, *csrf;
    web_req_t tr; /* only its language and catalogues: the refusals' language */
    int64_t max;
    uint64_t total, bound;
    json_t *form;
    size_t n_fields, text_bytes;
    /* the text field being gathered (MHD hands a long value in pieces) */
    char key[64];
    char *val;
    size_t vlen;
    bool in_text;
    /* the file */
    attach_writer_t *w;
    bool in_file, had_file, have_file, listed, placed;
    char name[EVENT_MAX_FILE_NAME + 1];
    uint8_t hash[EVENT_HASH_BYTES];
    uint64_t size;
    /* the first refusal, and a body that is no valid multipart */
    char err_field[32];
    char err[400];
    bool broken;
    size_t parts; /* calls of on_part: a body of none is no form */
};

uint64_t upload_bound(int64_t max)
{
    return (uint64_t)(max > 0 ? max : 0) + WEB_MAX_BODY + UPLOAD_SLACK;
}

__attribute__((format(printf, 3, 4))) static void refuse(upload_t *u, const char *field,
                                                         const char *fmt, ...)
{
    va_list ap;
    if (u->err[0])
        return; /* the first is the one to fix */
    snprintf(u->err_field, sizeof u->err_field, "%s", field);
    va_start(ap, fmt);
    vsnprintf(u->err, sizeof u->err, fmt, ap);
    va_end(ap);
}

/* The text field gathered so far goes into the form. */
static void text_end(upload_t *u)
{
    if (!u->in_text)
        return;
    u->in_text = false;
    json_t *v = json_stringn(u->val ? u->val : "", u->vlen);
    if (!v || memchr(u->val ? u->val : "", '\0', u->vlen))
        refuse(u, "", T(&u->tr, "field '%s': not valid UTF-8 text"), u->key);
    else if (++u->n_fields > WEB_MAX_FIELDS)
        refuse(u, "", T(&u->tr, "more than %d form fields"), WEB_MAX_FIELDS);
    else if (json_object_get(u->form, u->key))
        refuse(u, "", T(&u->tr, "field '%s' given twice"), u->key);
    else if (json_object_set(u->form, u->key, v) != 0)
        refuse(u, "", "%s", T(&u->tr, "out of memory"));
    json_decref(v);
    free(u->val);
    u->val = NULL;
    u->vlen = 0;
}

static void text_add(upload_t *u, const char *key, const char *data, uint64_t off, size_t size)
{
    if (!u->in_text || off == 0 || strcmp(u->key, key) != 0) {
        text_end(u);
        if (strlen(key) == 0 || strlen(key) >= sizeof u->key) {
            refuse(u, "", "%s", T(&u->tr, "a form field's name is empty or overlong"));
            return;
        }
        snprintf(u->key, sizeof u->key, "%s", key);
        u->in_text = true;
    }
    if ((u->text_bytes += size) > WEB_MAX_BODY) {
        refuse(u, "", T(&u->tr, "the form's text is larger than %d bytes"), WEB_MAX_BODY);
        u->in_text = false;
        return;
    }
    char *b = realloc(u->val, u->vlen + size + 1);
    if (!b) {
        refuse(u, "", "%s", T(&u->tr, "out of memory"));
        return;
    }
    memcpy(b + u->vlen, data, size);
    u->val = b;
    u->vlen += size;
}

/* The first piece of a file part: taken only in the file field, once,
 * after the form's csrf token. */
static void file_begin(upload_t *u, const char *key, const char *filename)
{
    char why[256];
    const char *tok = json_string_value(json_object_get(u->form, "csrf"));
    const char *name = attach_basename(filename);
    u->in_file = true;
    if (strcmp(key, FILE_FIELD) != 0)
        refuse(u, "", T(&u->tr, "field '%s': takes no file (only the form's file field does)"),
               key);
    else if (u->had_file)
        refuse(u, FILE_FIELD, "%s", T(&u->tr, "field 'attachment': one file per form"));
    else if (!tok || strlen(tok) != strlen(u->csrf) ||
             sodium_memcmp(tok, u->csrf, strlen(u->csrf)) != 0)
        refuse(u, "", "%s",
               T(&u->tr, "the form's CSRF token is missing, out of date or not before its "
                         "file: reload the page"));
    else if (!name[0] || strlen(name) > EVENT_MAX_FILE_NAME)
        refuse(u, FILE_FIELD,
               T(&u->tr, "field 'attachment': the file name is empty or longer than %d bytes"),
               EVENT_MAX_FILE_NAME);
    else if (attach_writer_open(&u->w, u->home, (uint64_t)u->max, why, sizeof why) != ATTACH_OK)
        refuse(u, FILE_FIELD, T(&u->tr, "field 'attachment': %s"), why);
    else
        snprintf(u->name, sizeof u->name, "%s", name);
    u->had_file = u->had_file || strcmp(key, FILE_FIELD) == 0;
}

static void file_add(upload_t *u, const char *data, size_t size)
{
    char why[256];
    if (!u->w || !size)
        return;
    int rc = attach_writer_put(u->w, data, size, why, sizeof why);
    if (rc == ATTACH_OK)
        return;
    attach_writer_abort(&u->w); /* nothing partial stays */
    if (rc == ATTACH_ERR_TOO_LARGE)
        refuse(u, FILE_FIELD,
               T(&u->tr, "field 'attachment': %s: the file is larger than this node's "
                         "attachment_max_mib (%lld MiB)"),
               err_name(ATTACH_ERR_TOO_LARGE), (long long)(u->max >> 20));
    else
        refuse(u, FILE_FIELD, T(&u->tr, "field 'attachment': %s"), why);
}

/* The file part is over (another part began, or the body ended). */
static void file_end(upload_t *u)
{
    char why[256];
    if (!u->in_file)
        return;
    u->in_file = false;
    if (!u->w)
        return;
    int rc = attach_writer_end(u->w, u->hash, &u->size, why, sizeof why);
    if (rc == ATTACH_OK) {
        u->have_file = true;
        return;
    }
    attach_writer_abort(&u->w);
    refuse(u, FILE_FIELD, T(&u->tr, "field 'attachment': %s"), why);
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
    upload_t *u = cls;
    (void)kind, (void)content_type, (void)transfer_encoding;
    u->parts++;
    if (!key)
        return MHD_YES;
    /* a file input left empty: a part named "" with no bytes */
    bool file = filename != NULL && (filename[0] || size || off);
    if (filename && !file)
        return MHD_YES;
    if (file) {
        text_end(u);
        if (off == 0 && !u->in_file)
            file_begin(u, key, filename);
        file_add(u, data, size);
        return MHD_YES;
    }
    file_end(u);
    text_add(u, key, data, off, size);
    return MHD_YES;
}

int upload_open(upload_t **out, void *conn, const char *home, int64_t max, const char *csrf,
                const web_req_t *r, char *why, size_t whylen)
{
    upload_t *u = calloc(1, sizeof *u);
    if (!u || !(u->form = json_object())) {
        free(u);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    u->home = home;
    u->csrf = csrf;
    u->tr.lang = r->lang;
    u->tr.i18n = r->i18n;
    u->max = max;
    u->bound = upload_bound(max);
    u->pp = MHD_create_post_processor(conn, UPLOAD_BUFFER, on_part, u);
    if (!u->pp) {
        snprintf(why, whylen, "%s",
                 T(r, "the form body is multipart/form-data without a boundary"));
        upload_close(&u);
        return -1;
    }
    *out = u;
    return 0;
}

int upload_feed(upload_t *u, const char *data, size_t len)
{
    if ((u->total += len) > u->bound)
        return -1;
    if (!u->broken && MHD_post_process(u->pp, data, len) != MHD_YES)
        u->broken = true;
    return 0;
}

json_t *upload_form(upload_t *u, char *why, size_t whylen)
{
    /* the post processor says whether the body ended where multipart ends;
     * it takes a body of no part at all (garbage before any boundary is a
     * preamble to it), which no form sends */
    if (u->pp && MHD_destroy_post_processor(u->pp) != MHD_YES)
        u->broken = true;
    if (!u->parts)
        u->broken = true;
    u->pp = NULL;
    file_end(u);
    text_end(u);
    if (u->broken) {
        attach_writer_abort(&u->w);
        u->have_file = false;
        snprintf(why, whylen, "%s",
                 T(&u->tr, "the form body is not whole multipart/form-data (a part or its "
                           "closing boundary is missing or malformed); nothing was stored"));
        return NULL;
    }
    return json_incref(u->form);
}

int upload_refused(const upload_t *u, const char **field, const char **line)
{
    if (!u || !u->err[0])
        return 0;
    *field = u->err_field;
    *line = u->err;
    return 1;
}

int upload_list(upload_t *u, json_t *content, char *why, size_t whylen)
{
    if (!u || !u->have_file)
        return 0;
    if (payload_attachment_add(content, u->hash, u->size, attach_media_type(u->name), u->name) !=
        0) {
        snprintf(why, whylen, "%s", T(&u->tr, "field 'attachment': the file name is not UTF-8 text"));
        return -1;
    }
    u->listed = true;
    return 0;
}

int upload_place(upload_t *u, char *why, size_t whylen)
{
    char w[256];
    int placed = 0;
    if (!u || !u->listed || !u->w)
        return 0;
    if (attach_writer_commit(&u->w, &placed, w, sizeof w) != ATTACH_OK) {
        snprintf(why, whylen, T(&u->tr, "field 'attachment': %s"), w);
        return -1;
    }
    u->placed = placed != 0;
    return 0;
}

void upload_unplace(upload_t *u)
{
    char path[PATH_MAX];
    if (u && u->placed && attach_path(path, sizeof path, u->home, u->hash) == 0)
        unlink(path);
    if (u)
        u->placed = false;
}

void upload_close(upload_t **up)
{
    upload_t *u = up ? *up : NULL;
    if (!u)
        return;
    if (u->pp)
        MHD_destroy_post_processor(u->pp);
    attach_writer_abort(&u->w);
    json_decref(u->form);
    free(u->val);
    free(u);
    *up = NULL;
}
