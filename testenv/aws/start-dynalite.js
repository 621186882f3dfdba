// Starts dynalite (DynamoDB on LevelDB, in memory) on 127.0.0.1 and a free port, prints
// "listening http://127.0.0.1:PORT" once it accepts connections, and exits when its
// standard input closes, so an emulator never outlives the test process that started it.
// Usage: node start-dynalite.js [port]   (0 or nothing: let the kernel pick)
'use strict'

const dynalite = require('dynalite')

const port = Number(process.argv[2] || 0)
// Tables become ACTIVE at once: the tests create one per test.
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })

// dynalite rethrows the error of a request it is still reading (index.js:
// `req.on('error', function (err) { throw err })`), so a client that dies in the middle of
// sending a request, as the server in the SIGKILL durability test does, would take the
// emulator down with it and every later call would be refused. DynamoDB drops that one
// request and serves the rest; so does this. Any other uncaught error still ends the
// process, loudly.
process.on('uncaughtException', (err) => {
  if (err && err.code === 'ECONNRESET' && err.message === 'aborted') {
    console.error(`dynalite: a client went away in the middle of a request (${err.message}); dropped it`)
    return
  }
  console.error(err && err.stack ? err.stack : err)
  process.exit(1)
})

server.on('error', (err) => {
  console.error(`dynalite: ${err.message}`)
  process.exit(1)
})
server.listen(port, '127.0.0.1', () => {
  console.log(`listening http://127.0.0.1:${server.address().port}`)
})

process.stdin.on('end', () => process.exit(0))
process.stdin.on('error', () => process.exit(0))
process.stdin.resume()
process.on('SIGTERM', () => server.close(() => process.exit(0)))
