/* Unit tests for term.c: reply parsers, the choice of renderer, and the
 * probe itself against a fake terminal on a pseudo-terminal. */
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "ui.h"

#define S(s) (s), sizeof (s) - 1

static void
da1_with_4_means_sixel(void **state)
{
	int	sixel = -1;

	assert_int_equal(term_parse_da1(S("\033[?63;1;2;4;6;9;15;22c"),
	    &sixel), 0);
	assert_int_equal(sixel, 1);
	assert_int_equal(term_parse_da1(S("\033[?64;4c"), &sixel), 0);
	assert_int_equal(sixel, 1);
}

static void
da1_without_4_means_no_sixel(void **state)
{
	int	sixel = -1;

	assert_int_equal(term_parse_da1(S("\033[?62;1;2;6;22c"), &sixel), 0);
	assert_int_equal(sixel, 0);
	/* A VT132 says class 4: that is not the sixel feature. */
	assert_int_equal(term_parse_da1(S("\033[?4;6c"), &sixel), 0);
	assert_int_equal(sixel, 0);
	assert_int_equal(term_parse_da1(S("\033[?1;2c"), &sixel), 0);
	assert_int_equal(sixel, 0);
}

static void
da1_found_among_junk_and_other_replies(void **state)
{
	int	sixel = -1;

	assert_int_equal(term_parse_da1(S("jk\033[?1016;2$y\033[6;20;10t"
	    "\033OA\033[?65;1;4;22c"), &sixel), 0);
	assert_int_equal(sixel, 1);
	/* A cut-short sequence before a whole one. */
	assert_int_equal(term_parse_da1(S("\033[?6\033[?65;4c"), &sixel), 0);
	assert_int_equal(sixel, 1);
	/* DA2 (prefix >) is not DA1. */
	assert_int_equal(term_parse_da1(S("\033[>41;379;0c"), &sixel), -1);
}

static void
da1_partial_or_absent_is_refused(void **state)
{
	int	sixel = -1;

	assert_int_equal(term_parse_da1(S(""), &sixel), -1);
	assert_int_equal(term_parse_da1(S("\033[?64;4"), &sixel), -1);
	assert_int_equal(term_parse_da1(S("\033[?64;4;"), &sixel), -1);
	assert_int_equal(term_parse_da1(S("\033"), &sixel), -1);
	assert_int_equal(term_parse_da1(S("?64;4c"), &sixel), -1);
	assert_int_equal(term_parse_da1(S("\033[?c"), &sixel), -1);
	assert_int_equal(term_parse_da1(S("\033[?64;4\001c"), &sixel), -1);
	assert_int_equal(sixel, -1);
}

/* Every cut of a reply is refused; the whole one is taken. */
static void
every_prefix_of_a_reply_is_partial(void **state)
{
	const char	r[] = "\033[6;16;8t\033[?1016;1$y\033[?64;4c";
	size_t		n;
	int		v, w, h;

	for (n = 0; n < sizeof r - 1; n++) {
		assert_int_equal(term_parse_da1(r, n, &v), -1);
		if (n < 9)
			assert_int_equal(term_parse_cellsize(r, n, &w, &h), -1);
		if (n < 20)
			assert_int_equal(term_parse_decrqm(r, n, 1016, &v),
			    -1);
	}
	assert_int_equal(term_parse_da1(r, n, &v), 0);
	assert_int_equal(term_parse_cellsize(r, 9, &w, &h), 0);
	assert_int_equal(term_parse_decrqm(r, 20, 1016, &v), 0);
}

/* Random bytes, with many ESC [ in them: no parser reads past the end
 * (the sanitizer build checks) and none takes junk for a reply. */
static void
random_junk_never_parses_as_da1(void **state)
{
	char		 b[64];
	const char	 alpha[] = "\033[?;$0123456789tcy4";
	unsigned	 seed = 1;
	int		 i, j, n, v, w, h;

	for (i = 0; i < 20000; i++) {
		n = (int)(rand_r(&seed) % sizeof b);
		for (j = 0; j < n; j++)
			b[j] = alpha[rand_r(&seed) % (sizeof alpha - 1)];
		if (term_parse_da1(b, n, &v) == 0) {
			assert_true(v == 0 || v == 1);
			assert_non_null(memmem(b, n, "\033[?", 3));
		}
		if (term_parse_cellsize(b, n, &w, &h) == 0)
			assert_true(w > 0 && h > 0);
		term_parse_textsize(b, n, &w, &h);
		term_parse_decrqm(b, n, 1016, &v);
	}
}

static void
cellsize_parsed_and_text_area_told_apart(void **state)
{
	const char	r[] = "x\033[4;400;800t\033[6;16;8t";
	int		w = 0, h = 0;

	assert_int_equal(term_parse_cellsize(r, sizeof r - 1, &w, &h), 0);
	assert_int_equal(w, 8);
	assert_int_equal(h, 16);
	assert_int_equal(term_parse_textsize(r, sizeof r - 1, &w, &h), 0);
	assert_int_equal(w, 800);
	assert_int_equal(h, 400);
}

static void
cellsize_bad_replies_refused(void **state)
{
	int	w = 0, h = 0;

	assert_int_equal(term_parse_cellsize(S("\033[6;0;0t"), &w, &h), -1);
	assert_int_equal(term_parse_cellsize(S("\033[6;20t"), &w, &h), -1);
	assert_int_equal(term_parse_cellsize(S("\033[6;20;10"), &w, &h), -1);
	assert_int_equal(term_parse_cellsize(S("\033[?6;20;10t"), &w, &h),
	    -1);
	assert_int_equal(term_parse_cellsize(S("\033[8;24;80t"), &w, &h), -1);
	/* Absurd numbers are bounded, not overflowed. */
	assert_int_equal(term_parse_cellsize(S("\033[6;99999999999999;5t"),
	    &w, &h), 0);
	assert_true(h > 0 && h < 1000000);
}

static void
decrqm_reply_parsed(void **state)
{
	int	st = -1;

	assert_int_equal(term_parse_decrqm(S("\033[?1006;1$y\033[?1016;2$y"),
	    1016, &st), 0);
	assert_int_equal(st, 2);
	assert_int_equal(term_parse_decrqm(S("\033[?1016;2y"), 1016, &st),
	    -1);
	assert_int_equal(term_parse_decrqm(S("\033[?1006;1$y"), 1016, &st),
	    -1);
}

static void
choose_sixel_only_where_it_works(void **state)
{
	struct term	t;

	memset(&t, 0, sizeof t);
	t.sixel = 1;
	t.cell_w = 10;
	t.cell_h = 20;
	assert_int_equal(term_choose(&t, GRAPHICS_AUTO), GRAPHICS_SIXEL);
	assert_int_equal(term_choose(&t, GRAPHICS_BLOCKS), GRAPHICS_BLOCKS);
	t.in_tmux = 1;
	assert_int_equal(term_choose(&t, GRAPHICS_AUTO), GRAPHICS_BLOCKS);
	assert_int_equal(term_choose(&t, GRAPHICS_SIXEL), GRAPHICS_SIXEL);
	t.in_tmux = 0;
	t.cell_w = 0;
	assert_int_equal(term_choose(&t, GRAPHICS_AUTO), GRAPHICS_BLOCKS);
	t.cell_w = 10;
	t.sixel = 0;
	assert_int_equal(term_choose(&t, GRAPHICS_AUTO), GRAPHICS_BLOCKS);
}

/*
 * A fake terminal on the master side of a pty: read queries until DA1,
 * then answer (in two pieces, the DA1 reply split) with what is given.
 */
static pid_t
fake_terminal(int master, const char *answer)
{
	char	 q[1024];
	size_t	 len = 0, half;
	ssize_t	 n;
	pid_t	 pid;

	if ((pid = fork()) != 0)
		return (pid);
	while (len < sizeof q - 1) {
		n = read(master, q + len, sizeof q - 1 - len);
		if (n <= 0)
			_exit(1);
		len += (size_t)n;
		q[len] = '\0';
		if (strstr(q, "\033[c") != NULL)
			break;
	}
	if (answer != NULL) {
		half = strlen(answer) - 4;
		if (write(master, answer, half) < 0)
			_exit(1);
		usleep(50000);
		if (write(master, answer + half, strlen(answer) - half) < 0)
			_exit(1);
	}
	usleep(answer == NULL ? 3000000 : 100000);
	_exit(strstr(q, "\033[16t") != NULL ? 16 : 0);
}

static int
open_pty(int *master, int cols, int rows, int xpix, int ypix)
{
	struct winsize	 ws;
	struct termios	 tio;
	int		 slave;

	*master = posix_openpt(O_RDWR|O_NOCTTY);
	assert_true(*master != -1);
	assert_int_equal(grantpt(*master), 0);
	assert_int_equal(unlockpt(*master), 0);
	slave = open(ptsname(*master), O_RDWR|O_NOCTTY);
	assert_true(slave != -1);
	memset(&ws, 0, sizeof ws);
	ws.ws_col = cols;
	ws.ws_row = rows;
	ws.ws_xpixel = xpix;
	ws.ws_ypixel = ypix;
	assert_int_equal(ioctl(slave, TIOCSWINSZ, &ws), 0);
	tcgetattr(slave, &tio);
	cfmakeraw(&tio);
	tcsetattr(slave, TCSANOW, &tio);
	return (slave);
}

static void
probe_asks_cell_size_when_kernel_has_none(void **state)
{
	struct term	 t;
	pid_t		 pid;
	int		 master, slave, status;
	double		 t0;

	unsetenv("TMUX");
	setenv("TERM", "xterm-256color", 1);
	setenv("COLORTERM", "truecolor", 1);
	slave = open_pty(&master, 100, 40, 0, 0);
	pid = fake_terminal(master, "\033[6;18;9t\033[?1016;2$y"
	    "\033[?63;1;2;4;6;9;15;22c");
	t0 = now_seconds();
	assert_int_equal(term_probe(&t, slave, NULL), 0);
	assert_true(now_seconds() - t0 < 1.5);
	assert_int_equal(t.cols, 100);
	assert_int_equal(t.rows, 40);
	assert_int_equal(t.cell_w, 9);
	assert_int_equal(t.cell_h, 18);
	assert_int_equal(t.sixel, 1);
	assert_int_equal(t.truecolor, 1);
	assert_int_equal(t.in_tmux, 0);
	assert_int_equal(t.pixel_mouse, 1);
	assert_int_equal(term_choose(&t, GRAPHICS_AUTO), GRAPHICS_SIXEL);
	waitpid(pid, &status, 0);
	assert_int_equal(WEXITSTATUS(status), 16);
	close(slave);
	close(master);
}

static void
probe_uses_kernel_pixels_and_env(void **state)
{
	struct term	 t;
	pid_t		 pid;
	int		 master, slave, status;

	setenv("TMUX", "/tmp/tmux-0/default,1,0", 1);
	setenv("TERM", "xterm-256color", 1);
	unsetenv("COLORTERM");
	slave = open_pty(&master, 80, 24, 800, 480);
	pid = fake_terminal(master, "\033[?62;22c");
	assert_int_equal(term_probe(&t, slave, NULL), 0);
	assert_int_equal(t.cell_w, 10);
	assert_int_equal(t.cell_h, 20);
	assert_int_equal(t.sixel, 0);
	assert_int_equal(t.truecolor, 0);
	assert_int_equal(t.in_tmux, 1);
	assert_int_equal(t.pixel_mouse, 0);
	waitpid(pid, &status, 0);
	/* Pixels known: no CSI 16 t asked. */
	assert_int_equal(WEXITSTATUS(status), 0);
	close(slave);
	close(master);
	unsetenv("TMUX");
}

static void
probe_sees_tmux_through_ssh_by_term(void **state)
{
	struct term	 t;
	pid_t		 pid;
	int		 master, slave, status;

	unsetenv("TMUX");
	unsetenv("COLORTERM");
	setenv("TERM", "tmux-direct", 1);
	slave = open_pty(&master, 80, 24, 800, 480);
	pid = fake_terminal(master, "\033[?63;4c");
	assert_int_equal(term_probe(&t, slave, NULL), 0);
	assert_int_equal(t.sixel, 1);
	assert_int_equal(t.in_tmux, 1);
	assert_int_equal(t.truecolor, 1);
	assert_int_equal(term_choose(&t, GRAPHICS_AUTO), GRAPHICS_BLOCKS);
	waitpid(pid, &status, 0);
	close(slave);
	close(master);
	setenv("TERM", "xterm-256color", 1);
}

static void
probe_falls_back_to_text_area(void **state)
{
	struct term	 t;
	pid_t		 pid;
	int		 master, slave, status;

	slave = open_pty(&master, 80, 25, 0, 0);
	pid = fake_terminal(master, "\033[4;500;640t\033[?64;4c");
	assert_int_equal(term_probe(&t, slave, NULL), 0);
	assert_int_equal(t.cell_w, 8);
	assert_int_equal(t.cell_h, 20);
	assert_int_equal(t.sixel, 1);
	waitpid(pid, &status, 0);
	close(slave);
	close(master);
}

static void
probe_survives_a_silent_terminal(void **state)
{
	struct term	 t;
	pid_t		 pid;
	int		 master, slave, status;
	double		 t0;

	slave = open_pty(&master, 80, 24, 0, 0);
	pid = fake_terminal(master, NULL);
	t0 = now_seconds();
	assert_int_equal(term_probe(&t, slave, NULL), 0);
	assert_true(now_seconds() - t0 < 3.0);
	assert_int_equal(t.sixel, 0);
	assert_int_equal(t.cell_w, 0);
	assert_int_equal(term_choose(&t, GRAPHICS_AUTO), GRAPHICS_BLOCKS);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	close(slave);
	close(master);
}

static void
probe_refuses_a_non_terminal(void **state)
{
	struct term	 t;
	char		*cause = NULL;
	int		 fd;

	fd = open("/dev/null", O_RDWR);
	assert_int_equal(term_probe(&t, fd, &cause), -1);
	assert_non_null(cause);
	free(cause);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(da1_with_4_means_sixel),
		cmocka_unit_test(da1_without_4_means_no_sixel),
		cmocka_unit_test(da1_found_among_junk_and_other_replies),
		cmocka_unit_test(da1_partial_or_absent_is_refused),
		cmocka_unit_test(every_prefix_of_a_reply_is_partial),
		cmocka_unit_test(random_junk_never_parses_as_da1),
		cmocka_unit_test(cellsize_parsed_and_text_area_told_apart),
		cmocka_unit_test(cellsize_bad_replies_refused),
		cmocka_unit_test(decrqm_reply_parsed),
		cmocka_unit_test(choose_sixel_only_where_it_works),
		cmocka_unit_test(probe_asks_cell_size_when_kernel_has_none),
		cmocka_unit_test(probe_uses_kernel_pixels_and_env),
		cmocka_unit_test(probe_sees_tmux_through_ssh_by_term),
		cmocka_unit_test(probe_falls_back_to_text_area),
		cmocka_unit_test(probe_survives_a_silent_terminal),
		cmocka_unit_test(probe_refuses_a_non_terminal),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
