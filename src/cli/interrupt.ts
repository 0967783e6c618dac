/**
 * Ctrl-C during `check` or `review`: the first one stops the search the way
 * a cap does (the answer so far, verdicts not yet decided unknown, exit 3);
 * a second one exits at once, with the shell's code for an interrupt.
 */
export function stopOnCtrlC(): AbortSignal {
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    process.stderr.write('\nlifecheck: stopping with the answer so far (Ctrl-C again to quit at once)\n');
  });
  return controller.signal;
}
