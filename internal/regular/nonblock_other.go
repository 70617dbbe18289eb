//go:build !unix

package regular

// nonblock is zero where named pipes are not files of the file system.
const nonblock = 0
