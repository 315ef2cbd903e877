// CPU per packet of pion/interceptor's send-side bandwidth estimator (pkg/gcc, no pacer),
// transport-cc feedback recorder (pkg/twcc) and NACK generator / responder (pkg/nack), for `npm run bench -- policy` to compare with ours
// on the same synthetic trace. Built from Debian's golang-github-pion-webrtc.v3-dev sources
// (GOPATH=/usr/share/gocode, GO111MODULE=off); prints one JSON line per case.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

const transportCCURI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

// The trace both sides use: packet i leaves at i ms, 1200 bytes, arrives 20 ms + (i % 7) * 0.1 ms
// later, one in a hundred is lost; feedback covers 20 packets.
const feedbackEvery = 20

func lost(i int) bool { return i%100 == 50 }

func arrivalUs(i int) int64 { return int64(i)*1000 + 20000 + int64(i%7)*100 }

func cpuNs() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

type result struct {
	Case       string  `json:"case"`
	NsPerPkt   float64 `json:"nsPerPacket"`
	Packets    int     `json:"packets"`
	TargetBps  int     `json:"targetBps,omitempty"`
}

func emit(r result) {
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

// Pre-builds the feedback packets of the trace with pion's recorder (outside the timed part).
func feedbacks(n int) [][]rtcp.Packet {
	rec := twcc.NewRecorder(2)
	var out [][]rtcp.Packet
	for i := 0; i < n; i++ {
		if !lost(i) {
			rec.Record(1, uint16(i), arrivalUs(i))
		}
		if i%feedbackEvery == feedbackEvery-1 {
			out = append(out, rec.BuildFeedbackPacket())
		}
	}
	return out
}

func benchGcc(n int) {
	fbs := feedbacks(n)
	bwe, err := gcc.NewSendSideBWE(gcc.SendSideBWEPacer(gcc.NewNoOpPacer()), gcc.SendSideBWEInitialBitrate(300_000))
	if err != nil {
		panic(err)
	}
	info := &interceptor.StreamInfo{SSRC: 1, RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: transportCCURI, ID: 3}}}
	w := bwe.AddStream(info, interceptor.RTPWriterFunc(func(h *rtp.Header, p []byte, a interceptor.Attributes) (int, error) {
		return len(p), nil
	}))
	payload := make([]byte, 1188)
	seqBuf := make([]byte, 2)
	start := cpuNs()
	for i := 0; i < n; i++ {
		h := &rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(i), Timestamp: uint32(i * 90), SSRC: 1}
		seqBuf[0], seqBuf[1] = byte(i>>8), byte(i)
		_ = h.SetExtension(3, seqBuf)
		if _, err := w.Write(h, payload, nil); err != nil {
			panic(err)
		}
		if i%feedbackEvery == feedbackEvery-1 {
			if err := bwe.WriteRTCP(fbs[i/feedbackEvery], nil); err != nil {
				panic(err)
			}
		}
	}
	// Let the estimator's goroutines finish what was queued (idle time costs no CPU).
	time.Sleep(200 * time.Millisecond)
	used := cpuNs() - start
	emit(result{Case: "send-side estimator (1 sent + 1/20 feedback)", NsPerPkt: float64(used) / float64(n), Packets: n, TargetBps: bwe.GetTargetBitrate()})
	_ = bwe.Close()
}

func benchRecorder(n int) {
	rec := twcc.NewRecorder(2)
	start := cpuNs()
	count := 0
	for i := 0; i < n; i++ {
		if !lost(i) {
			rec.Record(1, uint16(i), arrivalUs(i))
		}
		if i%feedbackEvery == feedbackEvery-1 {
			count += len(rec.BuildFeedbackPacket())
		}
	}
	used := cpuNs() - start
	if count == 0 {
		panic("no feedback")
	}
	emit(result{Case: "transport-cc feedback (1 received, a report every 20 ms)", NsPerPkt: float64(used) / float64(n), Packets: n})
}

// The NACK interceptors see the stream through their reader / writer, as in a pion peer connection.
func nackStream() *interceptor.StreamInfo {
	return &interceptor.StreamInfo{SSRC: 1, RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}}}
}

func serialized(i int) []byte {
	h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(i), Timestamp: uint32(i * 90), SSRC: 1}
	b, err := (&rtp.Packet{Header: h, Payload: make([]byte, 1150)}).Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

func benchNackGenerator(n int) {
	f, err := nack.NewGeneratorInterceptor()
	if err != nil {
		panic(err)
	}
	icp, err := f.NewInterceptor("")
	if err != nil {
		panic(err)
	}
	nacks := 0
	icp.BindRTCPWriter(interceptor.RTCPWriterFunc(func(p []rtcp.Packet, _ interceptor.Attributes) (int, error) {
		nacks += len(p)
		return 0, nil
	}))
	pkts := make([][]byte, 64)
	for k := range pkts {
		pkts[k] = serialized(k)
	}
	next := 0
	reader := icp.BindRemoteStream(nackStream(), interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		for lost(next) {
			next++
		}
		p := pkts[next&63]
		p[2], p[3] = byte(next>>8), byte(next)
		next++
		return copy(b, p), a, nil
	}))
	buf := make([]byte, 1500)
	start := cpuNs()
	for next < n {
		if _, _, err := reader.Read(buf, nil); err != nil {
			panic(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	used := cpuNs() - start
	emit(result{Case: "NACK generator (1 received, 1 % lost)", NsPerPkt: float64(used) / float64(n), Packets: n})
	_ = icp.Close()
}

func benchNackResponder(n int) {
	f, err := nack.NewResponderInterceptor()
	if err != nil {
		panic(err)
	}
	icp, err := f.NewInterceptor("")
	if err != nil {
		panic(err)
	}
	w := icp.BindLocalStream(nackStream(), interceptor.RTPWriterFunc(func(h *rtp.Header, p []byte, a interceptor.Attributes) (int, error) {
		return len(p), nil
	}))
	payload := make([]byte, 1150)
	start := cpuNs()
	for i := 0; i < n; i++ {
		h := &rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(i), Timestamp: uint32(i * 90), SSRC: 1}
		if _, err := w.Write(h, payload, nil); err != nil {
			panic(err)
		}
	}
	used := cpuNs() - start
	emit(result{Case: "NACK responder (1 sent into the history)", NsPerPkt: float64(used) / float64(n), Packets: n})
	_ = icp.Close()
}

func main() {
	n := 60000
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil && v > 0 && v <= 65000 {
			n = v
		}
	}
	benchGcc(n)
	benchRecorder(n)
	benchNackGenerator(n)
	benchNackResponder(n)
}
