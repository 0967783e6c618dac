/**
 * What happens when stdout or stderr cannot take what lifecheck prints. Node
 * reports a failed write as an 'error' event on the stream; unhandled, that
 * ends the process with a stack trace and exit code 1, which CI would read as
 * a verdict not as expected.
 */

/**
 * Ends the run when stdout or stderr fails: with 0 on EPIPE (the reader has
 * gone, as under `| head`), as other command-line tools do; with 2 and one
 * line on stderr on any other error, such as ENOSPC on a full disk.
 */
export function endQuietlyOnOutputErrors(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => fail('stdout', e));
  process.stderr.on('error', (e: NodeJS.ErrnoException) => fail('stderr', e));
}

function fail(stream: 'stdout' | 'stderr', e: NodeJS.ErrnoException): never {
  if (e.code === 'EPIPE') process.exit(0);
  // When stderr is what failed there is nowhere to say so; the exit code does.
  if (stream === 'stdout') {
    process.stderr.write(`lifecheck: cannot write to stdout: ${e.message.replace(/, write$/, '')}; send it where it can be written\n`);
  }
  process.exit(2);
}
