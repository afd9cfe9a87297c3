# A hookd receiver in Ruby (WEBrick: `gem install webrick` on Ruby 3). Run: WEBHOOK_SECRET=... PORT=3000 ruby ruby.rb
require "json"
require "openssl"
require "webrick"

secret = ENV.fetch("WEBHOOK_SECRET")
port = Integer(ENV.fetch("PORT", "3000"))
$stdout.sync = true

server = WEBrick::HTTPServer.new(BindAddress: "127.0.0.1", Port: port, Logger: WEBrick::Log.new(File::NULL), AccessLog: [])
server.mount_proc "/" do |req, res|
  body = req.body || ""
  expected = OpenSSL::HMAC.hexdigest("SHA256", secret, body)
  # secure_compare hashes both sides first, so it is constant time whatever their lengths.
  if OpenSSL.secure_compare(expected, req["X-Signature"].to_s)
    event = JSON.parse(body)
    puts "#{req['X-Topic']} #{req['X-Event-Id']} #{event}"
    res.status = 200
    res.body = "ok"
  else
    res.status = 403
    res.body = "invalid signature"
  end
end
trap("TERM") { server.shutdown }
trap("INT") { server.shutdown }
puts "listening on #{port}"
server.start
