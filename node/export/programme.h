/*
 * programme: a network's goals and its activities' feedback, as the report,
 * `lernet show` and the web page give them.
 *
 * Goals: per goal, what it counts (participants, optionally of some roles;
 * organisations taking part; workshops and meetings held), the target, how
 * far it is reached, its share and what remains. The actual number comes
 * from the report (report.c) over the goal's network and period, with the
 * goal's themes as a filter: participants are the experience reports' role
 * counts (by role: the rows of those roles), organisations those that
 * organised or reported on an event of the period, events those held (not
 * cancelled). from and to are days, inclusive, as the report's --from/--to.
 *
 * Feedback: per feedback item, the activity it is about, its questionnaire,
 * respondents in all and per role, and per question the histogram and the
 * mean. Only what can be trusted is given: an item whose author may publish
 * it (store_item_t.unauthorised), about a workshop or meeting here, against
 * a questionnaire here of the same network whose scales it fits, with at
 * least EVENT_MIN_RESPONDENTS respondents (event_check_payload already
 * refuses fewer; checked again so that nothing else can ever show them).
 */
#ifndef LERNET_PROGRAMME_H
#define LERNET_PROGRAMME_H

#include <jansson.h>
#include <stdio.h>

#include "store/store.h"

/* How many goals and feedback items one answer holds at most: each goal
 * is one pass over the network's items. */
#define PROGRAMME_MAX_GOALS 200
#define PROGRAMME_MAX_FEEDBACK 5000

/* The progress of one goal (it->goal set, not erased) from the items of
 * st: {"id", "network", "title", "titles", "measure", "roles", "themes",
 * "from", "to", "target", "actual", "share", "remaining", "reached"}
 * (share: actual / target, 0..; remaining: what is still missing, 0 once
 * reached). langs picks "title". New reference, or NULL when out of memory
 * or the store fails. */
json_t *programme_goal_json(store_t *st, const store_item_t *it, const char *langs);

/* Every counted goal of network (NULL: all), as programme_goal_json, in
 * the order published: a new array, or NULL on failure. */
json_t *programme_goals(store_t *st, const char *network, const char *langs);
/* The goals as CSV: PROGRAMME_GOAL_COLUMNS, then a line per goal. */
#define PROGRAMME_GOAL_COLUMNS "id,title,measure,roles,themes,from,to,target,actual,share,remaining"
void programme_goals_csv(const json_t *goals, FILE *f);

/* One feedback item's results (it->feedback set), or NULL when it is not
 * to be shown (see above) or out of memory: {"id", "network", "about",
 * "activity", "questionnaire", "questionnaire_title", "title",
 * "respondents", "respondents_by_role", "questions": [{"text", "min",
 * "max", "counts", "mean", "labels"}]}. */
json_t *programme_feedback_json(store_t *st, const store_item_t *it, const char *langs);
/* Every shown feedback item of network (NULL: all), or about one activity
 * (about non-NULL): a new array, or NULL on failure. */
json_t *programme_feedback(store_t *st, const char *network, const uint8_t *about,
                           const char *langs);
#define PROGRAMME_FEEDBACK_COLUMNS                                                              \
    "feedback,activity,about,questionnaire,respondents,question_no,question,min,max,mean,counts"
/* One line per question of each item; counts as "0;1;2;6;5". */
void programme_feedback_csv(const json_t *items, FILE *f);

#endif
