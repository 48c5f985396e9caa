import Foundation
import OdooSyncCLI

exit(await OdooSyncCommand.runMain())
