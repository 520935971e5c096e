"""Chinese and English UI text. Keys are the English strings; ``ZH`` gives the Chinese for each.

A string without a Chinese entry shows in English (a test checks every template string has one).
"""

from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

ZH: dict[str, str] = {
    "hegui console": "合规控制台",
    "Dashboard": "总览", "Review queue": "审核队列", "Lexicons": "词库", "Users": "用户",
    "Policy pack": "策略包", "Complaints": "投诉举报", "PI requests": "个人信息权利请求",
    "Incidents": "安全事件", "Sanctions": "违规处置", "Staff activity": "操作日志", "Obligations": "合规义务",
    "Audit log": "审计日志", "Staff": "工作人员", "Queues": "工单队列", "Content": "内容安全",
    "Governance": "治理", "Log out": "退出登录", "Log in": "登录", "Username": "用户名", "Password": "密码",
    "Sign in to the compliance console": "登录合规控制台",
    "Wrong username or password, or the account is locked.": "用户名或密码错误，或账户已锁定。",
    "Your session has expired or you are not logged in.": "会话已过期或尚未登录。",
    "Access refused": "无权访问",
    "Your role does not allow this page.": "您的角色无权访问此页面。",
    "Required role": "所需角色", "Your role": "您的角色",
    "The form was stale or forged (CSRF check failed). Reload the page and try again.":
        "表单已过期或来源不可信（CSRF 校验失败），请刷新页面后重试。",
    "Traffic (14 days)": "流量（14 天）", "Exchanges": "交互次数", "Refused or blocked": "拒答/拦截",
    "Flagged": "标记", "Unreviewed flags": "待审核标记", "Open complaints": "未结投诉",
    "Overdue": "已超期", "Overdue rectifications": "超期整改", "Decisions by risk category": "按风险类别的处置",
    "Top triggered terms": "触发最多的词", "Last corpus audit": "最近语料审核", "Last assessment": "最近安全评估",
    "Obligation registry": "合规义务登记", "passed": "通过", "failed": "未通过", "none yet": "暂无",
    "Not available in this installation": "本安装未提供此功能",
    "This queue is provided by the cases module (hegui.cases), which this installation does not have yet.":
        "此队列由工单模块（hegui.cases）提供，本安装尚未包含。",
    "working": "运行中", "configured": "已配置", "not_configured": "未配置", "failing": "故障",
    "not_implemented": "未实现", "Status": "状态", "Control": "控制措施", "Detail": "说明",
    "Article": "条款", "Time": "时间", "User": "用户", "Endpoint": "接口", "Decision": "处置",
    "Categories": "类别", "Review": "审核", "Open": "待处理", "Reviewed": "已审核", "All": "全部",
    "Filter": "筛选", "Search": "搜索", "Record": "记录", "Request": "请求", "Answer": "回答",
    "Findings": "命中", "Content purged after the retention period.": "内容已在保存期满后清除。",
    "Your role sees metadata only; content is visible to admin, compliance and reviewer roles.":
        "您的角色仅可查看元数据；内容仅对管理员、合规专员和审核员可见。",
    "This view of the content was recorded in the staff activity log.": "本次查看内容已记入操作日志。",
    "Verdict": "结论", "confirmed": "确认违规", "false_positive": "误报", "escalated": "上报",
    "Note": "备注", "Save verdict": "保存结论", "Reviews": "审核记录", "Term": "词条", "Category": "类别",
    "Severity": "级别", "Source": "来源", "Allow phrases": "豁免短语", "Add term": "添加词条",
    "Add or update a term": "添加或修改词条", "Remove": "删除", "Import": "导入", "Export": "导出",
    "Test a text against the live engine": "用在线引擎测试文本", "Test": "测试", "Text": "文本",
    "Action": "动作", "Rule": "规则", "No findings.": "无命中。", "Terms per risk": "各风险词条数",
    "Minimum": "最低要求", "Lines: term,category,severity (CSV with header) or one term per line with a category.":
        "每行：term,category,severity（带表头的 CSV），或每行一个词并选择类别。",
    "Format": "格式", "Version": "版本", "Saved": "已保存", "Removed": "已删除", "Imported": "已导入",
    "Verification": "实名状态", "Age": "年龄", "Minor": "未成年人", "Minutes today": "今日分钟",
    "Minutes (7 days)": "7 日分钟", "Role": "角色", "minors": "未成年人", "sanctioned": "有处置",
    "unverified": "未实名", "verified": "已实名", "pending": "审核中", "rejected": "已驳回",
    "Identifiers are masked.": "标识已脱敏。", "Active pack": "当前策略包", "Edit": "编辑",
    "Preview changes": "预览变更", "Save pack": "保存策略包", "Why this change": "变更原因",
    "The pack is valid. Review the changes below before saving.": "策略包校验通过，请在保存前检查以下变更。",
    "No changes.": "没有变更。", "History": "历史", "Comment": "说明",
    "Saved packs are written to": "保存的策略包写入",
    "This installation reads the operator pack: the change applies after a restart.":
        "本安装使用运营方策略包：重启后生效。",
    "This installation still reads": "本安装当前读取",
    "set policy_pack to the operator file and restart to use it.": "请将 policy_pack 设置为运营方文件并重启后生效。",
    "Ticket": "工单号", "Received": "收到时间", "Due": "截止", "Assignee": "处理人", "Outcome": "处理结果",
    "Move to": "变更为", "Add note": "添加备注", "triage": "分诊", "in_progress": "处理中",
    "resolved": "已解决", "rejected ": "已驳回", "open": "待处理", "Complaint": "投诉",
    "Public pages": "公开页面", "Make a complaint": "投诉举报", "Complaint process": "投诉处理流程",
    "Check a complaint": "查询投诉进度", "Training data opt-out": "退出训练数据使用",
    "Your data and model training": "您的数据与模型训练",
    "Describe the problem": "请描述问题", "Contact (e-mail or mobile, optional)": "联系方式（邮箱或手机，可选）",
    "Record ids (optional, from the x-hegui-request-id header)": "记录编号（可选，见 x-hegui-request-id 响应头）",
    "Submit": "提交", "Thank you. Your ticket number is": "已受理，您的工单号为",
    "We will reply by": "我们将在以下时间前答复", "Your API key": "您的 API 密钥",
    "Stop using my conversations for training": "不再将我的对话用于训练",
    "Allow training use": "允许用于训练", "Training use is now OFF for your account.": "您的账户已关闭训练使用。",
    "Training use is now ON for your account.": "您的账户已开启训练使用。",
    "Complaints are not accepted online in this installation.": "本安装暂不支持在线投诉。",
    "Staff login": "工作人员登录", "Back": "返回", "Language": "语言", "Export JSONL": "导出 JSONL",
    "Verify chain": "校验哈希链", "Chain intact": "哈希链完整", "Chain broken": "哈希链异常",
    "records": "条记录", "Action log of every staff member: logins, content views, changes.":
        "所有工作人员的操作记录：登录、查看内容、变更。",
    "Target": "对象", "Time limits": "时限", "Acknowledgement": "受理", "Resolution (days)": "办结（天）",
    "Triage (hours)": "分诊（小时）", "PI requests (days)": "个人信息请求（天）", "Appeals": "申诉",
    "Feedback": "反馈", "Steps": "流程", "Clause": "依据", "Last login": "最近登录", "Created": "创建时间",
    "Name": "名称", "overdue": "已超期", "on time": "按时", "due soon": "即将到期", "Total": "合计",
    "page": "页", "Next": "下一页", "Previous": "上一页", "Blocked": "拦截", "Refused": "拒答",
    "Allowed": "放行", "Masked": "脱敏", "Disclaimed": "提示", "Gateway": "网关",
    "Find a term": "查找词条", "No terms match.": "没有匹配的词条。", "Nothing flagged.": "暂无标记记录。",
    "Policy pack error": "策略包错误", "Error": "错误", "Not found": "未找到",
    "Your choice is applied to every conversation from now on.": "您的选择立即对之后的所有对话生效。",
    "Current setting": "当前设置", "on": "开启", "off": "关闭",
    "Check": "查询", "The ticket number you received": "您收到的工单号",
    "Sanctions history": "处置记录", "Verification state": "实名状态",
    "Rectification": "整改", "Kind": "类型", "Summary": "摘要", "Step": "措施", "Until": "截至", "Lifted": "已解除",
    "Description": "描述", "Incident": "事件", "ID": "编号", "Reason": "原因", "Complete": "办结", "Reject": "驳回",
    "Confirm": "确认", "Lift": "解除", "completed": "已办结", "dismissed": "已排除", "reported": "已报告",
    "closed": "已关闭", "done": "已完成", "cancelled": "已取消", "warn": "警示", "restrict": "限制功能",
    "suspend": "暂停服务", "terminate": "终止服务", "Exchange content": "交互内容", "below minimum": "项低于最低要求",
    "Disable": "停用", "Enable": "启用", "New staff account": "新建工作人员账户", "Create": "创建",
    "A locked account is unlocked by setting a new password": "锁定的账户需设置新密码后解锁",
    "as of": "更新于", "resolved or rejected": "已解决或已驳回",
    "The evidence checks are still running; reload in a moment.": "证据检查仍在进行，请稍后刷新。",
    "active": "正常", "disabled": "已停用", "locked": "已锁定",
}


# English display of machine values used as keys (statuses, verdicts)
EN: dict[str, str] = {
    "not_configured": "not configured", "not_implemented": "not implemented", "in_progress": "in progress",
    "false_positive": "false positive",
}


def translate(text: str, lang: str) -> str:
    if lang == "zh":
        return ZH.get(text, text)
    return EN.get(text, text)
