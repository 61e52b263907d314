/*
 * boolword.h - the words an option's value may use for true or false
 * (true/yes/on/1, false/no/off/0, in any case): the same for a LOCUST_*
 * switch in the environment and for lw_option_bool.
 */
#ifndef LW_BOOLWORD_H
#define LW_BOOLWORD_H

/* 0 with *out set to 1 (true) or 0 (false), or -1 when s is neither. */
int bool_word(const char *s, int *out);

#endif
