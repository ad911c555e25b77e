/*
 * s4lab: what only the project store (store.c) and its tests need.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

/* PRAGMA application_id of an s4lab project: "s4lb". */
#define STORE_APPLICATION_ID	0x73346c62

/* The schema version this s4lab writes: the number of migrations. */
int		 store_schema_version(void);

#endif /* STORE_INT_H */
