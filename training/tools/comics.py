#!/usr/bin/env python3
"""Draws the starter curriculum's comic strips (training/security-basics/img/*.svg).

The same few characters appear in every strip, drawn from the same shapes:
  Lin   - a sales clerk (dark bob, teal blouse)
  Zhou  - the data steward (glasses, brown jacket)
  Wang  - security (short hair, navy shirt)
  Caller / sender - a grey figure with a hat (the fraudster)
Every speech bubble carries the Chinese line first and the English line below it.
Run from the repository root: python3 training/tools/comics.py
"""
import html
import os

OUT = os.path.join(os.path.dirname(__file__), "..", "security-basics", "img")
W, H = 960, 360
PW = 300  # panel width
FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, sans-serif"

SKIN = "#f3d3b5"
OUTLINE = "#2b2b2b"


def person(x, y, who, mood="calm"):
    """A figure whose feet stand at (x, y+150); head centre at (x, y)."""
    shirt = {"lin": "#2a9d8f", "zhou": "#8d5b3c", "wang": "#264653", "crook": "#7a7a7a"}[who]
    parts = []
    # body
    parts.append(f'<path d="M{x-38},{y+150} Q{x-40},{y+52} {x},{y+48} Q{x+40},{y+52} {x+38},{y+150} Z" '
                 f'fill="{shirt}" stroke="{OUTLINE}" stroke-width="2"/>')
    # head
    parts.append(f'<circle cx="{x}" cy="{y}" r="30" fill="{SKIN}" stroke="{OUTLINE}" stroke-width="2"/>')
    # hair / hat
    if who == "lin":
        parts.append(f'<path d="M{x-32},{y+8} Q{x-36},{y-36} {x},{y-34} Q{x+36},{y-36} {x+32},{y+8} '
                     f'L{x+26},{y-10} Q{x},{y-22} {x-26},{y-10} Z" fill="#1d1d1d"/>')
    elif who == "zhou":
        parts.append(f'<path d="M{x-29},{y-8} Q{x},{y-44} {x+29},{y-8} Q{x},{y-24} {x-29},{y-8} Z" fill="#555"/>')
        parts.append(f'<circle cx="{x-11}" cy="{y-2}" r="8" fill="none" stroke="{OUTLINE}" stroke-width="2"/>'
                     f'<circle cx="{x+11}" cy="{y-2}" r="8" fill="none" stroke="{OUTLINE}" stroke-width="2"/>'
                     f'<line x1="{x-3}" y1="{y-2}" x2="{x+3}" y2="{y-2}" stroke="{OUTLINE}" stroke-width="2"/>')
    elif who == "wang":
        parts.append(f'<path d="M{x-30},{y-4} Q{x-26},{y-36} {x},{y-33} Q{x+26},{y-36} {x+30},{y-4} '
                     f'Q{x},{y-20} {x-30},{y-4} Z" fill="#2d2d2d"/>')
    else:
        parts.append(f'<rect x="{x-36}" y="{y-30}" width="72" height="8" fill="#444"/>'
                     f'<rect x="{x-22}" y="{y-52}" width="44" height="24" fill="#444"/>')
    # eyes and mouth
    if who != "zhou":
        parts.append(f'<circle cx="{x-10}" cy="{y-2}" r="3" fill="{OUTLINE}"/>'
                     f'<circle cx="{x+10}" cy="{y-2}" r="3" fill="{OUTLINE}"/>')
    mouth = {
        "calm": f'<path d="M{x-9},{y+13} Q{x},{y+19} {x+9},{y+13}" fill="none" stroke="{OUTLINE}" stroke-width="2"/>',
        "worried": f'<path d="M{x-9},{y+17} Q{x},{y+10} {x+9},{y+17}" fill="none" stroke="{OUTLINE}" stroke-width="2"/>',
        "surprised": f'<circle cx="{x}" cy="{y+15}" r="5" fill="{OUTLINE}"/>',
        "sly": f'<path d="M{x-10},{y+12} Q{x+2},{y+20} {x+12},{y+10}" fill="none" stroke="{OUTLINE}" stroke-width="2"/>',
    }[mood]
    parts.append(mouth)
    return "\n".join(parts)


def bubble(x, y, w, zh, en, tail):
    """A speech bubble with its top-left at (x, y); tail points to (tx, ty)."""
    h = 62
    tx, ty = tail
    bx = min(max(tx, x + 20), x + w - 20)
    return (f'<path d="M{bx-10},{y+h-2} L{tx},{ty} L{bx+10},{y+h-2}" fill="#fff" stroke="{OUTLINE}" stroke-width="2"/>'
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="14" fill="#fff" stroke="{OUTLINE}" stroke-width="2"/>'
            f'<rect x="{bx-9}" y="{y+h-4}" width="18" height="6" fill="#fff"/>'
            f'<text x="{x+w/2}" y="{y+26}" text-anchor="middle" font-size="17" font-weight="bold">{html.escape(zh)}</text>'
            f'<text x="{x+w/2}" y="{y+49}" text-anchor="middle" font-size="14" fill="#333">{html.escape(en)}</text>')


def caption(i, zh, en):
    x = 20 + i * (PW + 10)
    return (f'<rect x="{x}" y="{H-52}" width="{PW}" height="40" fill="#fff3c4" stroke="{OUTLINE}" stroke-width="1.5"/>'
            f'<text x="{x+PW/2}" y="{H-35}" text-anchor="middle" font-size="13">{html.escape(zh)}</text>'
            f'<text x="{x+PW/2}" y="{H-18}" text-anchor="middle" font-size="12" fill="#444">{html.escape(en)}</text>')


def panel(i, bg="#eef6f8"):
    x = 20 + i * (PW + 10)
    return f'<rect x="{x}" y="14" width="{PW}" height="{H-28}" fill="{bg}" stroke="{OUTLINE}" stroke-width="3"/>'


def screen(x, y, w, h, lines, colour="#dfe7ef"):
    out = [f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4" fill="#333"/>',
           f'<rect x="{x+5}" y="{y+5}" width="{w-10}" height="{h-10}" fill="{colour}"/>']
    for k, t in enumerate(lines):
        out.append(f'<text x="{x+10}" y="{y+22+k*16}" font-size="12" font-family="monospace">{html.escape(t)}</text>')
    return "\n".join(out)


def strip(name, title_zh, title_en, body):
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
           f'font-family="{FONT}" role="img">\n'
           f'<title>{html.escape(title_zh)} / {html.escape(title_en)}</title>\n'
           f'<rect width="{W}" height="{H}" fill="#fafafa"/>\n' + body + "\n</svg>\n")
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        f.write(svg)


def px(i, dx):
    return 20 + i * (PW + 10) + dx


def lesson1():
    b = [panel(0), panel(1), panel(2, "#fdeeee")]
    b.append(person(px(0, 80), 190, "lin"))
    b.append(person(px(0, 220), 190, "zhou"))
    b.append(bubble(px(0, 10), 40, 280, "客户把信息托付给了我们。", "Customers trust us with their details.", (px(0, 210), 150)))
    b.append(caption(0, "每条记录背后都是一个人。", "Behind every record is a person."))
    b.append(person(px(1, 80), 190, "lin", "surprised"))
    b.append(person(px(1, 220), 190, "zhou"))
    b.append(bubble(px(1, 10), 24, 170, "只是个电话号码？", "Only a phone number?", (px(1, 80), 150)))
    b.append(bubble(px(1, 40), 92, 250, "告知同意，最小必要。", "Notice, consent, only what's needed.", (px(1, 220), 158)))
    b.append(caption(1, "个人信息保护法的两条基本规矩。", "Two ground rules of the PIPL."))
    b.append('<rect x="{}" y="40" width="150" height="110" fill="#fff" stroke="#2b2b2b" stroke-width="2" transform="rotate(-6 {} 95)"/>'.format(px(2, 20), px(2, 95)))
    b.append(f'<text x="{px(2, 95)}" y="80" text-anchor="middle" font-size="26" font-weight="bold" fill="#b00020" transform="rotate(-6 {px(2, 95)} 95)">泄露!</text>')
    b.append(f'<text x="{px(2, 95)}" y="110" text-anchor="middle" font-size="16" font-weight="bold" fill="#b00020" transform="rotate(-6 {px(2, 95)} 95)">LEAK!</text>')
    b.append(person(px(2, 240), 190, "zhou", "worried"))
    b.append(bubble(px(2, 12), 170, 190, "通知、补救、罚款。", "Notify, remedy, fines.", (px(2, 208), 192)))
    b.append(caption(2, "泄露之后，公司负有法定义务。", "After a leak the company has legal duties."))
    strip("01-pipl-comic.svg", "客户信息为什么重要", "Why customer data matters", "\n".join(b))


def lesson2():
    b = [panel(0), panel(1), panel(2)]
    b.append(screen(px(0, 148), 100, 145, 82, ["姓名 Name: 李**", "身份证 ID:", "1101********1234", "偏好 Prefs: 瓷器"]))
    b.append(person(px(0, 80), 190, "lin", "surprised"))
    b.append(bubble(px(0, 10), 24, 190, "身份证号看不全？", "Why is the ID hidden?", (px(0, 80), 150)))
    b.append(caption(0, "销售看到的是遮蔽后的数据。", "Sales sees masked values."))
    b.append(person(px(1, 80), 190, "lin"))
    b.append(person(px(1, 220), 190, "zhou"))
    b.append(bubble(px(1, 20), 40, 265, "销售只需要姓名和偏好。", "Sales needs names and preferences.", (px(1, 220), 150)))
    b.append(caption(1, "每个角色只看工作需要的。", "Each role sees what its work needs."))
    b.append(screen(px(2, 20), 40, 160, 70, ["变更申请 #17", "Change request", "→ 审批 steward"], "#e6f4ea"))
    b.append(person(px(2, 230), 190, "zhou"))
    b.append(bubble(px(2, 10), 150, 185, "我来核对，再批准。", "I check it, then approve.", (px(2, 202), 192)))
    b.append(caption(2, "修改客户资料走变更申请。", "Changes go through a request."))
    strip("02-roles-comic.svg", "你的角色与权限", "Your role and its permissions", "\n".join(b))


def lesson3():
    b = [panel(0), panel(1), panel(2, "#eef8ee")]
    b.append(screen(px(0, 20), 40, 260, 100, ["From: boss@jinyuan-antlques.com",
                                               "紧急：今天把尾款付到新账户！",
                                               "URGENT: pay the balance to our",
                                               "new account today. Don't call me."], "#fff6e0"))
    b.append(person(px(0, 150), 200, "lin", "worried"))
    b.append(caption(0, "紧急、改账户、别打电话：三个危险信号。", "Urgent, new account, don't call: red flags."))
    b.append(f'<circle cx="{px(1, 120)}" cy="100" r="58" fill="#fff" stroke="{OUTLINE}" stroke-width="6"/>'
             f'<line x1="{px(1, 160)}" y1="142" x2="{px(1, 185)}" y2="170" stroke="{OUTLINE}" stroke-width="10"/>'
             f'<text x="{px(1, 120)}" y="96" text-anchor="middle" font-size="15" font-family="monospace">antlques</text>'
             f'<text x="{px(1, 120)}" y="118" text-anchor="middle" font-size="13" fill="#b00020">l ≠ i</text>')
    b.append(person(px(1, 235), 200, "lin", "surprised"))
    b.append(bubble(px(1, 10), 200, 165, "发件人拼错了！", "The sender is fake!", (px(1, 200), 205)))
    b.append(caption(1, "仔细看发件人的域名。", "Read the sender's domain letter by letter."))
    b.append(person(px(2, 110), 190, "lin"))
    b.append(f'<rect x="{px(2, 140)}" y="190" width="22" height="40" rx="4" fill="#333"/>')
    b.append(bubble(px(2, 20), 40, 270, "我打公司登记的电话核实。", "I'll call the number we already have.", (px(2, 110), 150)))
    b.append(caption(2, "用已知的电话核实，不回复邮件。", "Verify by a known number, not by reply."))
    strip("03-phishing-comic.svg", "识别钓鱼和诈骗", "Recognising phishing and fraud", "\n".join(b))


def lesson4():
    b = [panel(0), panel(1), panel(2)]
    b.append(person(px(0, 80), 190, "lin"))
    b.append(f'<rect x="{px(0, 120)}" y="230" width="30" height="14" rx="3" fill="#c0392b"/>'
             f'<text x="{px(0, 135)}" y="262" text-anchor="middle" font-size="11">U盘 USB</text>')
    b.append(person(px(0, 230), 190, "zhou"))
    b.append(bubble(px(0, 30), 40, 255, "客户数据不进个人设备。", "No customer data on own devices.", (px(0, 230), 150)))
    b.append(caption(0, "导出要审批，只存在公司系统里。", "Exports need approval and stay at work."))
    b.append(person(px(1, 60), 190, "crook", "sly"))
    b.append(person(px(1, 230), 190, "lin"))
    b.append(bubble(px(1, 10), 30, 200, "把我的地址念给我。", "Read me my address.", (px(1, 60), 150)))
    b.append(bubble(px(1, 90), 110, 205, "我按登记号码回拨。", "I'll call your number on file.", (px(1, 230), 155)))
    b.append(caption(1, "电话里要资料：先核实身份。", "Phone requests: verify first."))
    b.append(screen(px(2, 20), 60, 110, 80, ["  已锁定", "  Locked", "  Win+L"]))
    b.append(f'<rect x="{px(2, 170)}" y="150" width="70" height="60" fill="#95a5a6" stroke="{OUTLINE}" stroke-width="2"/>'
             f'<rect x="{px(2, 185)}" y="120" width="40" height="34" fill="#fff" stroke="{OUTLINE}" stroke-width="1.5"/>'
             f'<text x="{px(2, 205)}" y="230" text-anchor="middle" font-size="12">碎纸机 Shredder</text>')
    b.append(caption(2, "离开锁屏，打印件粉碎。", "Lock the screen, shred printouts."))
    strip("04-daily-comic.svg", "日常处理客户数据", "Handling data day to day", "\n".join(b))


def lesson5():
    b = [panel(0, "#fdeeee"), panel(1), panel(2, "#eef8ee")]
    b.append(person(px(0, 150), 190, "lin", "worried"))
    b.append(bubble(px(0, 20), 40, 260, "糟了，我点了那个链接……", "Oops, I clicked that link...", (px(0, 150), 150)))
    b.append(caption(0, "出错不可怕，隐瞒才可怕。", "Mistakes happen; hiding them hurts."))
    b.append(person(px(1, 80), 190, "lin"))
    b.append(f'<rect x="{px(1, 110)}" y="190" width="22" height="40" rx="4" fill="#333"/>')
    b.append(person(px(1, 230), 190, "wang"))
    b.append(bubble(px(1, 15), 30, 270, "马上报告安全部门，不删邮件。", "Report at once; keep the mail.", (px(1, 80), 150)))
    b.append(caption(1, "几分钟内报告：谁、何时、点了什么。", "Within minutes: who, when, what was clicked."))
    b.append(person(px(2, 150), 190, "wang"))
    b.append(bubble(px(2, 15), 40, 270, "谢谢！我们现在就能拦住它。", "Thanks! We can contain it now.", (px(2, 150), 150)))
    b.append(caption(2, "越早报告，损失越小。", "The sooner reported, the smaller the damage."))
    strip("05-report-comic.svg", "报告事件和可疑邮件", "Reporting an incident", "\n".join(b))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for f in (lesson1, lesson2, lesson3, lesson4, lesson5):
        f()
