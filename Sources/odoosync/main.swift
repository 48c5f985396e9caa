import Foundation
import OdooSyncCLI
// A closed pipe is an error from write(2), handled where output is written, not a signal.
signal(SIGPIPE, SIG_IGN)
// Before anything allocates much or opens a database.
OdooSyncCommand.tuneProcess()
exit(await OdooSyncCommand.runMain())
