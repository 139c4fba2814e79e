import KopruApp
import Foundation

/// A line on stdout, written at once (no buffering), so a pipe sees progress as it happens.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
