# Resource object code (Python 3)
# Created by: object code
# Created by: The Resource Compiler for Qt version 6.11.3
# WARNING! All changes made in this file will be lost!

from PySide6 import QtCore

qt_resource_data = b"\
\x00\x00\x00\xf4\
/\
* Layout only: c\
olours come from\
 the system pale\
tte so light and\
 dark themes bot\
h work. */\x0aQStat\
usBar QLabel { p\
adding: 0 6px; }\
\x0aQStatusBar QPro\
gressBar { max-w\
idth: 220px; max\
-height: 14px; }\
\x0aQTableView { gr\
idline-color: pa\
lette(midlight);\
 }\x0a\
\x00\x00\x02\xa7\
<\
svg xmlns=\x22http:\
//www.w3.org/200\
0/svg\x22 width=\x2264\
\x22 height=\x2264\x22 vi\
ewBox=\x220 0 64 64\
\x22>\x0a  <title>Sess\
ion Replay Inspe\
ctor</title>\x0a  <\
rect x=\x224\x22 y=\x228\x22\
 width=\x2248\x22 heig\
ht=\x2238\x22 rx=\x225\x22 f\
ill=\x22#2f6fb3\x22/>\x0a\
  <rect x=\x228\x22 y=\
\x2215\x22 width=\x2240\x22 \
height=\x2227\x22 rx=\x22\
2\x22 fill=\x22#eaf2fb\
\x22/>\x0a  <circle cx\
=\x2210\x22 cy=\x2211.5\x22 \
r=\x221.5\x22 fill=\x22#e\
af2fb\x22/>\x0a  <circ\
le cx=\x2215\x22 cy=\x221\
1.5\x22 r=\x221.5\x22 fil\
l=\x22#eaf2fb\x22/>\x0a  \
<path d=\x22M22 21 \
L34 28.5 L22 36 \
Z\x22 fill=\x22#2f6fb3\
\x22/>\x0a  <circle cx\
=\x2244\x22 cy=\x2244\x22 r=\
\x2211\x22 fill=\x22#ffff\
ff\x22 stroke=\x22#1d3\
f66\x22 stroke-widt\
h=\x224\x22/>\x0a  <path \
d=\x22M52 52 L60 60\
\x22 stroke=\x22#1d3f6\
6\x22 stroke-width=\
\x226\x22 stroke-linec\
ap=\x22round\x22/>\x0a  <\
path d=\x22M39 44 h\
10\x22 stroke=\x22#d95\
34f\x22 stroke-widt\
h=\x223\x22 stroke-lin\
ecap=\x22round\x22/>\x0a<\
/svg>\x0a\
"

qt_resource_name = b"\
\x00\x05\
\x00o\xa6S\
\x00i\
\x00c\x00o\x00n\x00s\
\x00\x09\
\x00(\xad#\
\x00s\
\x00t\x00y\x00l\x00e\x00.\x00q\x00s\x00s\
\x00\x07\
\x08sZ\x07\
\x00a\
\x00p\x00p\x00.\x00s\x00v\x00g\
"

qt_resource_struct = b"\
\x00\x00\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00\x01\
\x00\x00\x00\x10\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\
\x00\x00\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\x03\
\x00\x00\x00(\x00\x00\x00\x00\x00\x01\x00\x00\x00\xf8\
"

def qInitResources():
    QtCore.qRegisterResourceData(0x01, qt_resource_struct, qt_resource_name, qt_resource_data)

def qCleanupResources():
    QtCore.qUnregisterResourceData(0x01, qt_resource_struct, qt_resource_name, qt_resource_data)

qInitResources()
