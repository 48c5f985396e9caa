import Foundation
import OdooSyncCLI

// A closed pipe is an error from write(2), handled where output is written, not a signal.
signal(SIGPIPE, SIG_IGN)
exit(await OdooSyncCommand.runMain())
