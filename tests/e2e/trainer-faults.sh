#!/bin/sh
# The trainer under faults: kill -9 mid-job, cancel, labels committed while
# a job runs, two trainers at once.  A tiny network keeps it to seconds.
: "${S4LAB:?}" "${top_builddir:?}"
MK="$top_builddir/tests/e2e/mkproject"
command -v sqlite3 >/dev/null 2>&1 || { echo "no sqlite3 CLI"; exit 77; }

T=$(mktemp -d /tmp/trainer-faults.XXXXXX)
PIDS=
cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.log; do
	[ -f "$f" ] && { echo "== $f"; cat "$f"; }; done; exit 1; }
q() { sqlite3 "$P" "$1"; }
# Wait up to $2 seconds for a query to print $3.
wait_for() {
	i=0
	while [ "$(q "$1")" != "$3" ]; do
		i=$((i + 1))
		[ $i -gt $(($2 * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}
TINY='-W 4 -t 1 -S 3'
LONG="$TINY -s 1000000"

# 1. kill -9 in the middle of a job.
P=$T/kill.s4lab
"$MK" new "$P" 32 6 2 6 || fail "mkproject"
"$S4LAB" train $LONG "$P" >/dev/null || fail "train queue"
"$S4LAB" trainer "$P" 2>"$T/kill1.log" &
TP=$!; PIDS="$PIDS $TP"
wait_for "SELECT phase FROM jobs WHERE id = 1" 30 train ||
    fail "job never reached the training phase"
kill -9 $TP; wait $TP 2>/dev/null
[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity after kill"
[ "$(q 'SELECT state FROM jobs WHERE id = 1')" = running ] ||
    fail "killed job is not left running"
[ "$(q 'SELECT count(*) FROM models')" = 0 ] || fail "half a model stored"
"$S4LAB" trainer --once "$P" 2>"$T/kill2.log" || fail "second trainer"
[ "$(q 'SELECT state FROM jobs WHERE id = 1')" = failed ] ||
    fail "the next trainer did not mark the dead job failed"
q 'SELECT message FROM jobs WHERE id = 1' | grep -q gone ||
    fail "no reason given"
"$S4LAB" jobs "$P" | grep -q '^1 .*failed' || fail "jobs does not list it"

# 2. cancel stops a running job within seconds.
"$S4LAB" train $LONG "$P" >/dev/null
"$S4LAB" trainer "$P" 2>"$T/cancel.log" &
TP=$!; PIDS="$PIDS $TP"
wait_for "SELECT phase FROM jobs WHERE id = 2" 30 train ||
    fail "job 2 never started"
"$S4LAB" jobs --cancel 2 "$P" >/dev/null || fail "jobs --cancel"
start=$(date +%s)
wait $TP
end=$(date +%s)
[ $((end - start)) -le 10 ] || fail "cancel took $((end - start)) s"
[ "$(q 'SELECT state FROM jobs WHERE id = 2')" = cancelled ] ||
    fail "job 2 is not cancelled"
"$S4LAB" jobs --cancel 2 "$P" 2>/dev/null && fail "cancelled twice"

# 3. labels committed while a job trains are kept, and not trained on.
P=$T/labels.s4lab
"$MK" new "$P" 32 6 2 6 || fail "mkproject"
"$S4LAB" train $TINY -m 0.1 "$P" >/dev/null
"$S4LAB" trainer "$P" 2>"$T/labels.log" &
TP=$!; PIDS="$PIDS $TP"
wait_for "SELECT phase FROM jobs WHERE id = 1" 30 train ||
    fail "job never started"
for id in 9 10 11; do "$MK" label "$P" $id 1 || fail "label $id"; done
"$MK" label "$P" 1 2 || fail "relabel 1"
wait $TP || fail "trainer failed"
[ "$(q 'SELECT state FROM jobs WHERE id = 1')" = done ] ||
    fail "job not done: $(q 'SELECT message FROM jobs WHERE id = 1')"
[ "$(q 'SELECT count(*) FROM labels WHERE tile_id IN (9, 10, 11)')" = 3 ] ||
    fail "labels committed during training were lost"
[ "$(q 'SELECT revision FROM labels WHERE tile_id = 1')" = 2 ] ||
    fail "relabel lost"
q 'SELECT config FROM models' | grep -q '"labelled":6,' ||
    fail "the snapshot was not the one at the start"
[ "$(q 'SELECT count(*) FROM predictions')" = 14 ] ||
    fail "not every tile predicted"
"$S4LAB" models "$P" | grep -q '^1 ' || fail "models does not list it"
"$S4LAB" queue -n 3 "$P" | awk 'NR > 1' | wc -l | grep -q 3 ||
    fail "queue"

# 4. two trainers at once never run one job.
P=$T/two.s4lab
"$MK" new "$P" 32 4 1 4 || fail "mkproject"
for i in 1 2 3 4; do "$S4LAB" train $TINY -s 20 "$P" >/dev/null; done
"$S4LAB" trainer "$P" 2>"$T/two-a.log" & A=$!
"$S4LAB" trainer "$P" 2>"$T/two-b.log" & B=$!
PIDS="$PIDS $A $B"
wait $A; wait $B
[ "$(q "SELECT count(*) FROM jobs WHERE state = 'done'")" = 4 ] ||
    fail "not every job done"
[ "$(q 'SELECT count(DISTINCT job_id) FROM models')" = 4 ] ||
    fail "a job ran twice or not at all"
[ "$(q 'SELECT count(*) FROM models')" = 4 ] || fail "extra models"
n=$(cat "$T"/two-*.log | grep -c 'started')
[ "$n" = 4 ] || fail "$n job starts for 4 jobs"
[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity"

# 5. --detach runs the queue in the background and logs next to the file.
"$S4LAB" train $TINY -s 5 "$P" >/dev/null
"$S4LAB" trainer --detach "$P" >/dev/null || fail "detach"
wait_for "SELECT state FROM jobs WHERE id = 5" 60 done ||
    fail "detached trainer did not run the job"
i=0
until grep -q 'job 5 done' "$P.trainer.log" 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 50 ] && fail "no log next to the project"
	sleep 0.1
done

# 6. SIGINT on train --wait, SIGTERM on a foreground trainer: the job
# ends cancelled ("interrupted"), nothing is stored, the status says so.
P=$T/sig.s4lab
"$MK" new "$P" 32 4 1 4 || fail "mkproject"
"$S4LAB" train --wait $LONG "$P" >/dev/null 2>"$T/sig-int.log" &
TP=$!; PIDS="$PIDS $TP"
wait_for "SELECT phase FROM jobs WHERE id = 1" 30 train ||
    fail "train --wait never trained"
kill -INT $TP
wait $TP; st=$?
[ $st = 130 ] || fail "train --wait exited $st on SIGINT"
grep -q interrupted "$T/sig-int.log" || fail "no message on SIGINT"
[ "$(q 'SELECT state FROM jobs WHERE id = 1')" = cancelled ] ||
    fail "interrupted job left $(q 'SELECT state FROM jobs WHERE id = 1')"
q 'SELECT message FROM jobs WHERE id = 1' | grep -q interrupted ||
    fail "no reason for the interrupted job"
"$S4LAB" train $LONG "$P" >/dev/null
"$S4LAB" trainer "$P" 2>"$T/sig-term.log" &
TP=$!; PIDS="$PIDS $TP"
wait_for "SELECT phase FROM jobs WHERE id = 2" 30 train ||
    fail "trainer never trained"
kill -TERM $TP
wait $TP; st=$?
[ $st = 143 ] || fail "trainer exited $st on SIGTERM"
[ "$(q 'SELECT state FROM jobs WHERE id = 2')" = cancelled ] ||
    fail "terminated job left $(q 'SELECT state FROM jobs WHERE id = 2')"
[ "$(q 'SELECT count(*) FROM models')" = 0 ] || fail "a model was stored"
# 7. train options: ranges checked at the command line, each key once.
P=$T/opts.s4lab
"$MK" new "$P" 32 2 0 1 || fail "mkproject"
for o in "-s -1" "-s 1e8" "-s 1.5" "-W 0" "-W 513" "-t 257" "-t -1" \
    "-m 0" "-S -1" "-s x"; do
	"$S4LAB" train $o "$P" >/dev/null 2>&1
	st=$?; [ $st = 2 ] || fail "train $o exited $st, not 2"
done
[ "$(q 'SELECT count(*) FROM jobs')" = 0 ] || fail "a bad option queued"
"$S4LAB" train -s 5 -s 7 -W 4 -W 8 -u -u -s 0 "$P" >/dev/null ||
    fail "train with repeated options"
[ "$(q 'SELECT params FROM jobs')" = \
    '{"steps":0,"width":8,"supervised_only":1}' ] ||
    fail "params: $(q 'SELECT params FROM jobs')"
exit 0
