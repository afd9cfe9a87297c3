# A hookd receiver in Ruby (WEBrick: `gem install webrick` on Ruby 3). Run: WEBHOOK_SECRET=... PORT=3000 ruby ruby.rb
require "base64"
require "json"
require "openssl"
require "webrick"

secret = ENV.fetch("WEBHOOK_SECRET")
# A whsec_ secret is base64 after the prefix (Standard Webhooks); any other is used as its bytes.
key = secret.start_with?("whsec_") ? Base64.strict_decode64(secret.delete_prefix("whsec_")) : secret
port = Integer(ENV.fetch("PORT", "3000"))
tolerance = 300 # seconds: a captured request cannot be replayed later than this
# webhook-ids already handled: a delivery can arrive twice. Use your database in production.
seen = {}
seen_lock = Mutex.new
$stdout.sync = true

server = WEBrick::HTTPServer.new(BindAddress: "127.0.0.1", Port: port, Logger: WEBrick::Log.new(File::NULL), AccessLog: [])
server.mount_proc "/" do |req, res|
  body = (req.body || "").b
  id = req["webhook-id"].to_s
  timestamp = req["webhook-timestamp"].to_s
  fresh = !id.empty? && timestamp.match?(/\A\d+\z/) && (Time.now.to_i - timestamp.to_i).abs <= tolerance
  expected = "v1," + Base64.strict_encode64(OpenSSL::HMAC.digest("SHA256", key, "#{id}.#{timestamp}.".b + body))
  # One entry per valid secret during a rotation; secure_compare is constant time.
  if fresh && req["webhook-signature"].to_s.split(" ").any? { |s| OpenSSL.secure_compare(expected, s) }
    first = seen_lock.synchronize do
      known = seen.key?(id)
      seen[id] = true
      seen.shift if seen.size > 10_000
      !known
    end
    puts "#{req['X-Topic']} #{id} #{JSON.parse(body)}" if first
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
