/*
 * atom: an Atom 1.0 feed (RFC 4287) of what a network shares that is not
 * on the calendar: new resources and experience reports, newest first.
 * Served as /feed.atom and written by `lernet export atom`. Every text is
 * XML-escaped; hidden and erased items are left out.
 *
 * Feed: id urn:lernet:feed:NETWORK (urn:lernet:feed:all without one),
 * title, updated (the newest entry's, or the epoch for an empty feed),
 * author (this node's organisation), link rel="self". Entry: id
 * urn:lernet:event:ID, title, updated (its latest revision), published,
 * author (the publishing organisation), link rel="alternate" to
 * BASE/event/ID, and a category per theme and for its kind.
 */
#ifndef LERNET_ATOM_H
#define LERNET_ATOM_H

#include <stddef.h>
#include <stdio.h>

#include "store/store.h"

#define ATOM_MAX_ENTRIES 200

typedef struct atom_opts {
    const char *network; /* NULL: every network */
    const char *base;    /* "http://127.0.0.1:8470": entries link BASE/event/ID */
    const char *self;    /* the feed's own address (rel="self") */
    const char *node;    /* this node's organisation: the feed's author */
    const char *langs;   /* preferred languages of titles, "sv,en" */
} atom_opts_t;

/* Writes the feed of st's items to f. 0, or -1 on a store or memory error
 * (what was written is then incomplete: the caller discards it). */
int atom_write(FILE *f, store_t *st, const atom_opts_t *o);

#endif
