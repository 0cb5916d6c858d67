/**
 * Skapi's WebRTC guide example (../shared/reference/skapi-webrtc-guide.txt), copied as
 * published, run against Switchboard. Only the initialisation line differs:
 *
 *   const skapi = new Skapi(...)   →   window.skapi = new Switchboard({ url, name })
 *
 * plus one correction the guide itself needs to be JavaScript at all: `RealtimeCallback`
 * uses `await` but is declared without `async` (a SyntaxError in every engine; upstream
 * fixed it in skapi-documentation 0307a68). The guide's other slips are left as they are:
 * `state` in the `connectionstatechange` case is undeclared (a ReferenceError the SDK
 * catches, so the call goes on) and `rtcConnection` is an implicit global (fine in a
 * classic, sloppy-mode script, which is how the guide is loaded here).
 */
export const GUIDE_HTML = String.raw`<!-- skapi should be previously initialized... -->
<style>
video {
width: 320px;
height: 240px;
border: 1px solid black;
}
</style>
<!-- Video elements for displaying local and remote media streams -->
<video id="localVideo" autoplay muted></video>
<video id="remoteVideo" autoplay hidden></video>
<!-- Dialog used for outgoing and incoming calls -->
<dialog id="call_dialog"></dialog>`;

export const GUIDE_SCRIPT = String.raw`let call = null; // This will later be set to the resolved RTC connection object.
// This RTCCallback is used in connectRTC() on both the calling and receiving sides.
function RTCCallback(e) {
console.log("RTC Callback:", e);
switch (e.type) {
// RTC Events
case "negotiationneeded":
// RTC negotiation is needed. Send an offer.
break;
case "track":
// Attach the incoming media stream to the remote video element.
document.getElementById('remoteVideo').srcObject = e.streams[0];
document.getElementById("remoteVideo").play();
break;
case "connectionstatechange":
// RTC connection state
if (
e.state === "disconnected" ||
e.state === "failed" ||
e.state === "closed"
) {
// RTC has disconnected. Hide the opponent video element.
document.getElementById('remoteVideo').hidden = true;
} else if (state === "connecting") {
// Callback executed when the user is connected to RTC.
// Show the opponent video element.
document.getElementById('remoteVideo').hidden = false;
}
break;
// Data Channel Events
case "close":
// Data channel is closed
break;
case "message":
// Data channel message received from remote peer.
console.log(${'`'}Message received from RTC data channel:${'`'}, e.data);
break;
case "open":
// Data channel opened
break;
case "bufferedamountlow":
// Data channel low buffer
break;
case "error":
// Data channel error
break;
}
}
// Realtime event listener
// This callback listens for users joining the room.
async function RealtimeCallback(rt) {
if(rt.type === 'notice') {
if(rt.code === 'USER_JOINED') {
if(call) return;
// When another user joins the room, start an RTC call.
if(skapi.user.user_id !== rt.sender) {
call = await skapi.connectRTC({cid: rt.sender_cid, media: { audio: true, video: true}}, RTCCallback);
call_dialog.innerHTML = /*html*/${'`'}
<p>Outgoing call</p>
<button onclick="call.hangup(); call_dialog.close();">Reject</button>
${'`'};
call_dialog.showModal(); // Display outgoing call dialog
rtcConnection = await call.connection; // Save resolved RTC connection object
document.getElementById('localVideo').srcObject = rtcConnection.media; // Show outgoing local media stream
}
}
}
if (rt.type === 'rtc:incoming') {
// incoming RTC call
call = rt;
call_dialog.innerHTML = /*html*/${'`'}
<p>Incoming call</p>
<button onclick='
call.connectRTC({ media: {audio: true, video: true} }, RTCCallback)
.then(rtc => {
rtcConnection = rtc; // Save resolved RTC connection object
document.getElementById("localVideo").srcObject = rtcConnection.media; // Show outgoing local media stream
call_dialog.close();
})
'>Accept</button>
<button onclick="call.hangup(); call_dialog.close();">Reject</button>
${'`'};
call_dialog.showModal(); // Display incoming call dialog
}
else if (rt.type === 'rtc:closed') {
// RTC connection is completely closed
call = null;
}
}
skapi.connectRealtime(RealtimeCallback); // Connect to Realtime
skapi.joinRealtime({ group: 'RTCCall' }); // Join a Realtime group`;

export const GUIDE_PAGE = `<!doctype html><meta charset="utf-8"><title>guide</title>
${GUIDE_HTML}
<script type="module">
import { Switchboard } from '/switchboard.browser.js';
window.skapi = new Switchboard({ url: location.origin, name: new URLSearchParams(location.search).get('name') }); // ← the initialisation line
const guide = document.createElement('script'); // the guide's code, as a classic (sloppy-mode) script
guide.src = '/guide.js';
document.body.append(guide);
</script>`;
