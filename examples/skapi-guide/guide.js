let call = null; // This will later be set to the resolved RTC connection object.
let rtcConnection = null; // fixed: the guide assigned to an undeclared `rtcConnection`
// This RTCCallback is used in connectRTC() on both the calling and receiving sides.
function RTCCallback(e) {
  console.log('RTC Callback:', e);
  switch (e.type) {
    // RTC Events
    case 'negotiationneeded':
      // RTC negotiation is needed. Send an offer.
      break;
    case 'track':
      // Attach the incoming media stream to the remote video element.
      document.getElementById('remoteVideo').srcObject = e.streams[0];
      document.getElementById('remoteVideo').play();
      break;
    case 'connectionstatechange':
      // RTC connection state
      if (e.state === 'disconnected' || e.state === 'failed' || e.state === 'closed') {
        // RTC has disconnected. Hide the opponent video element.
        document.getElementById('remoteVideo').hidden = true;
      } else if (e.state === 'connecting') {
        // fixed: the guide tested an undeclared `state`
        // Callback executed when the user is connected to RTC.
        // Show the opponent video element.
        document.getElementById('remoteVideo').hidden = false;
      }
      break;
    // Data Channel Events
    case 'close':
      // Data channel is closed
      break;
    case 'message':
      // Data channel message received from remote peer.
      console.log(`Message received from RTC data channel:`, e.data);
      break;
    case 'open':
      // Data channel opened
      break;
    case 'bufferedamountlow':
      // Data channel low buffer
      break;
    case 'error':
      // Data channel error
      break;
  }
}
// Realtime event listener
// This callback listens for users joining the room.
async function RealtimeCallback(rt) {
  // fixed: the guide forgot `async` but uses `await`
  if (rt.type === 'notice') {
    if (rt.code === 'USER_JOINED') {
      if (call) return;
      // When another user joins the room, start an RTC call.
      if (skapi.user.user_id !== rt.sender) {
        call = await skapi.connectRTC({ cid: rt.sender_cid, media: { audio: true, video: true } }, RTCCallback);
        call_dialog.innerHTML = /*html*/ `
<p>Outgoing call</p>
<button onclick="call.hangup(); call_dialog.close();">Reject</button>
`;
        call_dialog.showModal(); // Display outgoing call dialog
        rtcConnection = await call.connection; // Save resolved RTC connection object
        document.getElementById('localVideo').srcObject = rtcConnection.media; // Show outgoing local media stream
      }
    }
  }
  if (rt.type === 'rtc:incoming') {
    // incoming RTC call
    call = rt;
    call_dialog.innerHTML = /*html*/ `
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
`;
    call_dialog.showModal(); // Display incoming call dialog
  } else if (rt.type === 'rtc:closed') {
    // RTC connection is completely closed
    call = null;
  }
}
skapi.connectRealtime(RealtimeCallback); // Connect to Realtime
skapi.joinRealtime({ group: 'RTCCall' }); // Join a Realtime group
