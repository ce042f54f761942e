/*
 * err: names and texts of every code (see err.h), from the one table.
 */
#include "util/err.h"

typedef struct err_def {
    int code;
    const char *name, *text;
} err_def_t;

static const err_def_t defs[] = {
#define LERNET_ERR_DEF(id, value, name, text) {value, name, text},
    LERNET_ERRORS(LERNET_ERR_DEF)
#undef LERNET_ERR_DEF
};

size_t err_index(int code)
{
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
        if (defs[i].code == code)
            return i + 1;
    return 0;
}

int err_at(size_t i)
{
    return i >= 1 && i <= sizeof defs / sizeof defs[0] ? defs[i - 1].code : ERR_OK;
}

const char *err_name(int code)
{
    size_t i = err_index(code);
    return code == ERR_OK ? "ok" : i ? defs[i - 1].name : "unknown_error";
}

const char *err_text(int code)
{
    size_t i = err_index(code);
    return code == ERR_OK ? "ok" : i ? defs[i - 1].text : "unknown error";
}
