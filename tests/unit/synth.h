/*
 * Synthetic projects for the jobs and trainer tests: small tiles from a
 * few scenes, each a noisy background with a bright square (class 1) and
 * a blue band (class 2), so that a tiny network has something to learn.
 */
#ifndef SYNTH_H
#define SYNTH_H

#include <stdint.h>

struct store;

/* Create a project: nlab labelled train tiles, nval labelled validation
 * tiles, nunl unlabelled tiles, all tile x tile pixels, from 3 scenes
 * (tiles ids 1.. in that order).  Dies on error. */
void	synth_project(const char *, int, int, int, int);
/* Commit a label of one class over a whole tile. */
void	synth_label(struct store *, int64_t, int);

#endif
