import Foundation
import OdooSyncCLI

// A closed pipe is an error from write(2), handled where output is written, not a signal.
signal(SIGPIPE, SIG_IGN)
// Before any database opens.
_ = OdooSyncCommand.tuneSQLite()
exit(await OdooSyncCommand.runMain())
