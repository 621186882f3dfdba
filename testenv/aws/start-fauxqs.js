// Starts fauxqs (SNS and SQS on one port, in memory) on 127.0.0.1 and a free port, with
// request logging off, prints "listening http://127.0.0.1:PORT" once it accepts
// connections, and exits when its standard input closes, so an emulator never outlives
// the test process that started it. fauxqs's own CLI binds 0.0.0.0 and logs every
// request, hence this script.
// Usage: node start-fauxqs.js [port]   (0 or nothing: let the kernel pick)
'use strict'

const port = Number(process.argv[2] || 0)

import('fauxqs').then(async ({ buildApp }) => {
  const app = buildApp({ logger: false })
  const address = await app.listen({ port, host: '127.0.0.1' })
  console.log(`listening ${address}`)
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
}).catch((err) => {
  console.error(`fauxqs: ${err.message}`)
  process.exit(1)
})

process.stdin.on('end', () => process.exit(0))
process.stdin.on('error', () => process.exit(0))
process.stdin.resume()
