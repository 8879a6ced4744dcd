// UI strings: Chinese first, English on the toggle. Keys are stable; pages use data-i18n.
export const STRINGS = {
  "zh-CN": {
    title_agent: "坐席工作台", title_supervisor: "班长监控台", login: "登录", logout: "退出",
    username: "用户名", password: "密码", login_failed: "用户名或密码错误",
    state: "状态", available: "示闲", "break": "小休", not_ready: "忙碌", offline: "离线",
    reserved: "振铃中", on_call: "通话中", wrap_up: "话后处理",
    incoming: "来电", accept: "接听", decline: "拒接", hangup: "挂断", hold: "保持", unhold: "恢复",
    transfer: "转接", warm: "咨询转接", to_queue: "转队列", to_agent: "转坐席", note: "备注",
    dtmf: "按键", send: "发送", otp: "二次确认", otp_sent: "验证码已发送至", otp_confirmed: "二次确认已通过",
    screen_pop: "客户信息", customer: "客户", unknown_customer: "未识别客户", phone: "手机",
    id_number: "身份证", credit_score: "信用分", segment: "客群", vip: "贵宾",
    loans: "贷款", product: "产品", principal: "本金", outstanding: "待还", status: "状态",
    overdue_days: "逾期天数", next_due: "下次还款", repayments: "还款记录", due_date: "应还日",
    amount: "金额", risk_flags: "风险标签", no_risk: "无风险标签", contacts: "近期联系",
    routing: "路由信息", routing_reason: "路由原因", seg_retail: "个人客户", seg_business: "企业客户", rule: "命中规则", queue: "队列", caller: "来电号码",
    bot: "机器人对话", intent: "意图", slots: "槽位", verification: "身份核验",
    knowledge: "知识库", wrapup: "话后处理", disposition: "处置结果", resolved: "已解决",
    submit: "提交", saved: "已保存", shortcut_hint: "快捷键：Alt+A 接听，Alt+H 挂断",
    missing: "部分信息缺失", wallboard: "实时监控", reports: "报表", waiting: "排队数",
    longest_wait: "最长等待", ewt: "预计等待", service_level: "服务水平", abandon_rate: "放弃率",
    agents: "坐席", agents_by_state: "坐席状态", time_in_state: "状态时长", alerts: "告警",
    listen: "监听", whisper: "耳语", barge: "强插", last_hour: "近一小时",
    ringing_your_phone: "正在呼叫您的软电话…", ringing: "振铃中", supervision: "监听",
    stop_supervise: "结束监听", supervise_stopped: "已结束监听", supervisor_not_answered: "您的软电话无人接听，监听未开始",
    notice_whisper: "耳语指导中（客户听不到）", notice_barge: "已加入通话（客户可听到）", supervisor_label: "班长",
    group_by: "分组", from: "开始", to: "结束", query: "查询", download_csv: "下载 CSV",
    offered: "呼入", answered: "接通", abandoned: "放弃", asa: "平均应答(秒)", aht: "平均处理(秒)",
    fcr: "首解率", containment: "机器人解决率", bot_calls: "机器人接待", by_queue: "按队列",
    by_agent: "按坐席", by_day: "按天", by_hour: "按小时", seconds: "秒", connected: "已连接",
    reconnecting: "重连中…", none: "无", call_ended: "通话已结束，请填写处置结果",
    transfer_done: "已转接", consult_from: "咨询转接来自", consult_complete: "完成转接", consult_cancel: "取消咨询", consulting: "咨询中：客户已保持",
  },
  en: {
    title_agent: "Agent desktop", title_supervisor: "Supervisor", login: "Log in", logout: "Log out",
    username: "Username", password: "Password", login_failed: "Wrong username or password",
    state: "State", available: "Available", "break": "Break", not_ready: "Not ready", offline: "Offline",
    reserved: "Ringing", on_call: "On call", wrap_up: "Wrap-up",
    incoming: "Incoming call", accept: "Accept", decline: "Decline", hangup: "Hang up", hold: "Hold", unhold: "Resume",
    transfer: "Transfer", warm: "Warm transfer", to_queue: "To queue", to_agent: "To agent", note: "Note",
    dtmf: "DTMF", send: "Send", otp: "Second confirmation", otp_sent: "Code sent to", otp_confirmed: "Confirmed",
    screen_pop: "Customer", customer: "Customer", unknown_customer: "Unidentified caller", phone: "Mobile",
    id_number: "ID number", credit_score: "Credit score", segment: "Segment", vip: "VIP",
    loans: "Loans", product: "Product", principal: "Principal", outstanding: "Outstanding", status: "Status",
    overdue_days: "Days overdue", next_due: "Next due", repayments: "Repayments", due_date: "Due",
    amount: "Amount", risk_flags: "Risk flags", no_risk: "No risk flags", contacts: "Recent contacts",
    routing: "Routing", routing_reason: "Routing reason", seg_retail: "Retail", seg_business: "Business", rule: "Rule", queue: "Queue", caller: "Caller",
    bot: "Voicebot", intent: "Intent", slots: "Slots", verification: "Verification",
    knowledge: "Knowledge", wrapup: "Wrap-up", disposition: "Disposition", resolved: "Resolved",
    submit: "Submit", saved: "Saved", shortcut_hint: "Shortcuts: Alt+A accept, Alt+H hang up",
    missing: "Some information is missing", wallboard: "Wallboard", reports: "Reports", waiting: "Waiting",
    longest_wait: "Longest wait", ewt: "EWT", service_level: "Service level", abandon_rate: "Abandon rate",
    agents: "Agents", agents_by_state: "Agents by state", time_in_state: "Time in state", alerts: "Alerts",
    listen: "Listen", whisper: "Whisper", barge: "Barge", last_hour: "Last hour",
    ringing_your_phone: "Ringing your softphone…", ringing: "ringing", supervision: "Supervisor",
    stop_supervise: "Stop", supervise_stopped: "Stopped supervising", supervisor_not_answered: "Your softphone did not answer: not supervising",
    notice_whisper: "is whispering to you (the customer cannot hear)", notice_barge: "has joined the call (the customer hears them)", supervisor_label: "Supervisor",
    group_by: "Group by", from: "From", to: "To", query: "Run", download_csv: "Download CSV",
    offered: "Offered", answered: "Answered", abandoned: "Abandoned", asa: "ASA (s)", aht: "AHT (s)",
    fcr: "FCR", containment: "Bot containment", bot_calls: "Bot calls", by_queue: "By queue",
    by_agent: "By agent", by_day: "By day", by_hour: "By hour", seconds: "s", connected: "Connected",
    reconnecting: "Reconnecting…", none: "None", call_ended: "Call ended: set the disposition",
    transfer_done: "Transferred", consult_from: "Consult from", consult_complete: "Complete transfer", consult_cancel: "Cancel consult", consulting: "Consulting: caller on hold",
  },
};

export function lang() {
  return localStorage.getItem("lendline.lang") || "zh-CN";
}

export function t(key) {
  const table = STRINGS[lang()] || STRINGS["zh-CN"];
  return table[key] ?? STRINGS["zh-CN"][key] ?? key;
}

export function applyI18n(root = document) {
  document.documentElement.lang = lang();
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

export function toggleLang() {
  localStorage.setItem("lendline.lang", lang() === "zh-CN" ? "en" : "zh-CN");
  applyI18n();
}

// Queue names for people (from /api/v1/desktop/me: the skill's description), Chinese first;
// the English page and unknown queues show the queue's own name.
const QUEUE_LABELS = {};
export function setQueueLabels(labels) { Object.assign(QUEUE_LABELS, labels || {}); }
export function queueLabel(name) {
  if (!name) return "";
  return lang() === "en" ? name : QUEUE_LABELS[name] || name;
}
