// pion-fanout: the fanout suite's pion row (bench/suites/fanout.ts, docs/bench/README.md): one
// publisher track forwarded to N subscriber PeerConnections on pion/webrtc v3, all on one shared
// UDP port (ice.UDPMuxDefault), each subscriber with its own TrackLocalStaticRTP written with
// WriteRTP, the way LiveKit-style SFUs forward. Built by bench/peers/pion-fanout.ts from Debian's
// golang-github-pion-webrtc.v3-dev in GOPATH mode.
//
// It speaks the suite's fanout protocol (bench/peers/fanout-protocol.ts) as JSON lines: requests
// on stdin, replies on stdout. A `mark` reply carries the packets forwarded and the process CPU
// (getrusage(RUSAGE_SELF), every thread: the counter Node's process.cpuUsage reads for the other
// rows) since the previous mark. EOF on stdin exits.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v3"
)

type request struct {
	ID  int    `json:"id"`
	Op  string `json:"op"`
	SDP string `json:"sdp"`
	Sub int    `json:"sub"`
}

type reply struct {
	ID        int      `json:"id"`
	SDP       string   `json:"sdp,omitempty"`
	Sub       int      `json:"sub,omitempty"`
	Forwarded *int64   `json:"forwarded,omitempty"`
	CPUUs     *float64 `json:"cpuUs,omitempty"`
	UserUs    *float64 `json:"userUs,omitempty"`
	WallMs    *float64 `json:"wallMs,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// relay is the forwarder: the subscribers' tracks, read by the publisher's read loop.
type relay struct {
	api       *webrtc.API
	forwarded int64
	mu        sync.RWMutex
	tracks    []*webrtc.TrackLocalStaticRTP
	pending   map[int]*webrtc.PeerConnection
	nextSub   int
}

// newAPI: default codecs and interceptors (NACK responder and generator, RTCP reports, TWCC), as
// a pion application has them, restricted to IPv4 loopback, every connection on `mux`.
func newAPI(mux ice.UDPMux) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, err
	}
	s := webrtc.SettingEngine{}
	lf := logging.NewDefaultLoggerFactory()
	lf.Writer = os.Stderr // stdout carries the protocol
	s.LoggerFactory = lf
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetIncludeLoopbackCandidate(true)
	s.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetICEUDPMux(mux)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(s)), nil
}

// localSDP sets `desc` as the local description and returns it with every candidate gathered.
func localSDP(pc *webrtc.PeerConnection, desc webrtc.SessionDescription) (string, error) {
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(desc); err != nil {
		return "", err
	}
	select {
	case <-gathered:
	case <-time.After(10 * time.Second):
		return "", errors.New("ICE gathering did not complete in 10 s")
	}
	return pc.LocalDescription().SDP, nil
}

// forward reads the publisher's track and writes every packet to each subscriber's track.
func (r *relay) forward(track *webrtc.TrackRemote) {
	for {
		p, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		r.mu.RLock()
		for _, t := range r.tracks {
			if t.WriteRTP(p) == nil {
				atomic.AddInt64(&r.forwarded, 1)
			}
		}
		r.mu.RUnlock()
	}
}

func (r *relay) publish(offer string) (string, error) {
	pc, err := r.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", err
	}
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { go r.forward(track) })
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", err
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	return localSDP(pc, answer)
}

// drainRTCP reads a sender's RTCP so that its interceptors (NACK responder, reports) see it.
func drainRTCP(sender *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := sender.Read(buf); err != nil {
			return
		}
	}
}

func (r *relay) subscribe() (string, int, error) {
	pc, err := r.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", 0, err
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pion-fanout")
	if err != nil {
		return "", 0, err
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		return "", 0, err
	}
	go drainRTCP(sender)
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return "", 0, err
	}
	sdp, err := localSDP(pc, offer)
	if err != nil {
		return "", 0, err
	}
	r.mu.Lock()
	r.nextSub++
	sub := r.nextSub
	r.pending[sub] = pc
	r.tracks = append(r.tracks, track)
	r.mu.Unlock()
	return sdp, sub, nil
}

func (r *relay) answer(sub int, answer string) error {
	r.mu.Lock()
	pc := r.pending[sub]
	delete(r.pending, sub)
	r.mu.Unlock()
	if pc == nil {
		return fmt.Errorf("no subscriber %d", sub)
	}
	return pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer})
}

// cpuUs is this process's user + system CPU so far, µs, over all threads, and of it user mode.
func cpuUs() (float64, float64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	user := float64(ru.Utime.Sec)*1e6 + float64(ru.Utime.Usec)
	return user + float64(ru.Stime.Sec)*1e6 + float64(ru.Stime.Usec), user
}

func main() {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = conn.SetReadBuffer(16 << 20)
	_ = conn.SetWriteBuffer(16 << 20)
	api, err := newAPI(ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	r := &relay{api: api, pending: map[int]*webrtc.PeerConnection{}}
	out := json.NewEncoder(os.Stdout)
	var outMu sync.Mutex
	send := func(v reply) {
		outMu.Lock()
		defer outMu.Unlock()
		_ = out.Encode(v)
	}
	markCPU, markUser := cpuUs()
	markForwarded, markAt := int64(0), time.Now()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintln(os.Stderr, "bad request:", err)
			continue
		}
		switch req.Op {
		case "mark":
			// Answered in order, on this goroutine, so the marks bracket the round exactly.
			cpu, user := cpuUs()
			fwd, now := atomic.LoadInt64(&r.forwarded), time.Now()
			dCPU, dUser, dFwd, dWall := cpu-markCPU, user-markUser, fwd-markForwarded, float64(now.Sub(markAt).Microseconds())/1000
			markCPU, markUser, markForwarded, markAt = cpu, user, fwd, now
			send(reply{ID: req.ID, Forwarded: &dFwd, CPUUs: &dCPU, UserUs: &dUser, WallMs: &dWall})
		case "publish", "subscribe", "answer":
			go func(req request) {
				rep := reply{ID: req.ID}
				var err error
				switch req.Op {
				case "publish":
					rep.SDP, err = r.publish(req.SDP)
				case "subscribe":
					rep.SDP, rep.Sub, err = r.subscribe()
				case "answer":
					err = r.answer(req.Sub, req.SDP)
				}
				if err != nil {
					rep.Error = err.Error()
				}
				send(rep)
			}(req)
		default:
			send(reply{ID: req.ID, Error: "unknown op " + req.Op})
		}
	}
}
